"""The server against a hostile client: upload limits and stalls, huge numbers, the token,
the Host header, and pages that load nothing from another host."""

from __future__ import annotations

import logging
import re
import socket
import time

import httpx
import pytest
from conftest import debug_config, running
from fastapi.testclient import TestClient

from cantata.cli import main
from cantata.serve import create_app

AUTH = {"Authorization": "Bearer s3cret"}
HUGE = "99999999999999999999999"
MB = 1_000_000


@pytest.fixture
def client(catalog_db):
    app = create_app(debug_config(catalog_db, token="s3cret"))
    with TestClient(app, headers=AUTH, raise_server_exceptions=False) as c:
        yield c


def _chunks(total, sent):
    """``total`` bytes in 64 kB chunks, counting in ``sent[0]`` what was taken."""
    block = b"\0" * 65536
    while sent[0] < total:
        sent[0] += len(block)
        yield block


def _multipart(total, sent):
    yield (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n"
           b"Content-Type: audio/wav\r\n\r\n")
    yield from _chunks(total, sent)
    yield b"\r\n--XyZ--\r\n"


@pytest.mark.parametrize("form", [True, False], ids=["multipart", "raw"])
def test_a_chunked_upload_stops_being_read_at_the_limit(tmp_path, form):
    sent = [0]
    body = _multipart(64 * MB, sent) if form else _chunks(64 * MB, sent)
    kind = "multipart/form-data; boundary=XyZ" if form else "audio/wav"
    with running(debug_config(max_upload_mb=1, results_dir=tmp_path)) as url:
        response = httpx.post(f"{url}/v1/detect", content=body, timeout=30,
                              headers={"Content-Type": kind})  # no length: chunked
    assert response.status_code == 413 and "over the limit" in response.json()["detail"]
    assert sent[0] < 24 * MB  # stopped near the limit, not after the whole body
    assert not list((tmp_path / "uploads").glob("*"))  # the partial file is gone


def _stalled_request(url, path="/v1/detect"):
    """Send headers and a bit of a promised 100 kB body, then nothing; returns the answer
    and the seconds it took."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     "Content-Type: audio/wav\r\nContent-Length: 100000\r\n\r\nRIFF".encode())
        start, answer = time.monotonic(), b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer.decode(errors="replace"), time.monotonic() - start


def test_a_stalled_upload_is_timed_out_and_closed(tmp_path):
    with running(debug_config(body_timeout_s=0.5, results_dir=tmp_path)) as url:
        answer, seconds = _stalled_request(url)
    assert answer.startswith("HTTP/1.1 408") and "no data" in answer
    assert seconds < 10
    assert not list((tmp_path / "uploads").glob("*"))


@pytest.mark.parametrize("path", [
    f"/v1/tracks/{HUGE}", f"/v1/tracks/{HUGE}/peaks", f"/v1/tracks/{HUGE}/audio",
    f"/v1/tracks/{HUGE}/stems/vocals", f"/v1/tracks/-{HUGE}", f"/tracks/{HUGE}",
    f"/v1/tracks?offset={HUGE}", f"/v1/tracks?limit={HUGE}", f"/v1/tracks?offset=-{HUGE}",
    f"/v1/tracks/1/peaks?bins={HUGE}", "/v1/tracks/9223372036854775808",
])
def test_huge_numbers_are_a_4xx_not_a_500(client, path):
    response = client.get(path)
    assert response.status_code in (404, 422), response.text
    assert "Traceback" not in response.text


def test_the_largest_sqlite_integers_still_work(client):
    top = 2 ** 63 - 1
    assert client.get(f"/v1/tracks/{top}").status_code == 404
    page = client.get("/v1/tracks", params={"offset": top})
    assert page.status_code == 200 and page.json()["tracks"] == []


def test_every_status_is_counted_500_included(client, monkeypatch):
    from cantata.serve import peaks

    def broken(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(peaks, "envelope", broken)
    mono = next(t["id"] for t in client.get("/v1/tracks").json()["tracks"]
                if t["path"].endswith("mono.flac"))
    assert client.get(f"/v1/tracks/{mono}/peaks").status_code == 500
    assert client.get(f"/v1/tracks/{HUGE}").status_code == 422
    metrics = client.get("/metrics").text
    assert re.search(r'cantata_requests_total\{method="GET",route="/v1/tracks/\{track_id\}/'
                     r'peaks",status="500"\} 1\.0', metrics), metrics
    assert 'route="/v1/tracks/{track_id}",status="422"} 1.0' in metrics


def test_the_token_is_taken_in_the_url_only_by_pages(catalog_db):
    app = create_app(debug_config(catalog_db, token="s3cret"))
    with TestClient(app, follow_redirects=False) as c:
        for path in ("/v1/tracks", "/metrics", "/static/track.js", "/openapi.json"):
            assert c.get(path, params={"token": "s3cret"}).status_code == 401, path
        page = c.get("/tracks/1", params={"x": "1", "token": "s3cret"})
        assert page.status_code == 303 and page.headers["location"] == "/tracks/1?x=1"
        assert "HttpOnly" in page.headers["set-cookie"]
        assert c.get("/tracks/1?x=1").status_code == 200  # the cookie now
        assert c.get("/v1/tracks").status_code == 200
        assert c.get("/?token=wrong").status_code == 401  # even with the cookie


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_the_api_docs_need_the_token(catalog_db, path):
    app = create_app(debug_config(catalog_db, token="s3cret"))
    with TestClient(app) as c:
        assert c.get(path).status_code == 401
        assert c.get(path, headers=AUTH).status_code == 200


def test_the_token_is_redacted_from_the_access_log(catalog_db):
    app = create_app(debug_config(catalog_db, token="s3cret"))
    with TestClient(app):
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                                   '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5", "GET", "/?a=1&token=s3cret&b=2", "1.1", 303),
                                   None)
        assert logging.getLogger("uvicorn.access").filter(record)
    assert "s3cret" not in record.getMessage() and "token=<redacted>&b=2" in record.getMessage()


@pytest.mark.parametrize(("host", "status"), [
    ("127.0.0.1:8000", 200), ("localhost:8000", 200), ("[::1]:8000", 200),
    ("music.lan:8000", 200), ("evil.example:8000", 421), ("localhost:9999", 421),
    ("evil.example", 421),
])
def test_without_a_token_the_host_header_must_be_this_server(catalog_db, host, status):
    config = debug_config(catalog_db, port=8000, allowed_hosts=("music.lan",))
    with TestClient(create_app(config)) as c:
        response = c.get("/v1/tracks", headers={"Host": host})
        assert response.status_code == status, response.text
        assert c.get("/healthz", headers={"Host": "evil.example"}).status_code == 200
    with TestClient(create_app(debug_config(catalog_db, token="s3cret"))) as c:
        assert c.get("/v1/tracks", headers={"Host": host, **AUTH}).status_code == 200


def test_the_bound_host_is_allowed(catalog_db):
    config = debug_config(catalog_db, host="192.168.1.5", port=8000)
    with TestClient(create_app(config)) as c:
        assert c.get("/v1/tracks", headers={"Host": "192.168.1.5:8000"}).status_code == 200


OTHER_HOST = re.compile(r"""(?i:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|"""
                        r"""url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?(?:https?:)?//""")
# (CSS's url(), lower case: the ReDoc bundle parses with JavaScript's URL("https://" + ...))
LOCAL_URL = re.compile(r"""(?:src|href)\s*=\s*["'](/[^"']*)""")


def test_no_page_loads_anything_from_another_host(client):
    seen, todo = set(), ["/", "/tracks/1", "/docs", "/redoc"]
    while todo:
        path = todo.pop()
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.text
        assert not OTHER_HOST.search(text), (path, OTHER_HOST.search(text))
        seen.add(path)
        todo += [p for p in LOCAL_URL.findall(text) if p not in seen and p not in todo]
    assert {"/static/docs/swagger-ui-bundle.js", "/static/docs/redoc.standalone.js",
            "/static/docs/swagger-ui.css", "/static/style.css"} <= seen


def test_the_token_can_come_from_a_file(tmp_path, catalog_db, monkeypatch, capsys):
    import uvicorn

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    monkeypatch.delenv("CANTATA_TOKEN", raising=False)
    secret = tmp_path / "token"
    secret.write_text("fr0m-file\n")
    argv = ["serve", "--db", str(catalog_db), "--detect-model", "debug-multilabel",
            "--separate-model", "debug"]
    assert main([*argv, "--token-file", str(secret)]) == 0
    with TestClient(served["app"]) as c:
        assert c.get("/v1/tracks").status_code == 401
        assert c.get("/v1/tracks", headers={"Authorization": "Bearer fr0m-file"}
                     ).status_code == 200
    assert main([*argv, "--port", "8123", "--allow-host", "music.lan"]) == 0  # no token
    with TestClient(served["app"]) as c:
        for host, status in (("localhost:8123", 200), ("localhost:8000", 421),
                             ("music.lan", 200), ("evil.example:8123", 421)):
            assert c.get("/v1/tracks", headers={"Host": host}).status_code == status, host
    assert main([*argv, "--token-file", str(tmp_path / "missing")]) == 2
    error = capsys.readouterr().err
    assert "missing" in error and "Traceback" not in error
    (tmp_path / "empty").write_text("\n")
    assert main([*argv, "--token-file", str(tmp_path / "empty")]) == 2
