"""The HTTP API on a real server: analysis, catalog, files, limits, token, metrics."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import soundfile as sf
from conftest import debug_config, running

AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server, headers=AUTH, timeout=60) as c:
        yield c


def test_health_needs_no_token_everything_else_does(server):
    health = httpx.get(f"{server}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    for path in ("/v1/tracks", "/metrics", "/", "/static/track.js", "/v1/tracks/1/audio"):
        response = httpx.get(f"{server}{path}")
        assert response.status_code == 401, path
        assert "Traceback" not in response.text
    assert httpx.get(f"{server}/v1/tracks", headers={"Authorization": "Bearer nope"}
                     ).status_code == 401


def test_detect_multipart_and_raw_body(client, wav_bytes):
    form = client.post("/v1/detect", files={"file": ("clip.wav", wav_bytes, "audio/wav")})
    assert form.status_code == 200, form.text
    body = form.json()
    assert body["file"] == "clip.wav" and body["duration_s"] == pytest.approx(1.5)
    assert body["model_version"] == "debug-multilabel"
    assert body["regions"] and all(
        set(r) == {"start_s", "end_s", "start", "end", "label", "confidence"}
        and (r["start"], r["end"]) == (r["start_s"], r["end_s"]) for r in body["regions"])
    raw = client.post("/v1/detect", content=wav_bytes,
                      headers={"Content-Type": "audio/wav", "X-Filename": "take.wav"})
    assert raw.status_code == 200 and raw.json()["regions"] == body["regions"]
    assert raw.json()["file"] == "take.wav"


def test_separate_returns_stems_to_download(client, wav_bytes):
    response = client.post("/v1/separate", files={"file": ("clip.wav", wav_bytes)})
    assert response.status_code == 200, response.text
    stems = response.json()["stems"]
    assert set(stems) == {"vocals", "accompaniment"}
    flac = client.get(stems["vocals"])
    assert flac.status_code == 200 and flac.headers["content-type"] == "audio/flac"
    assert flac.content[:4] == b"fLaC"
    assert client.get("/v1/separations/" + "0" * 32 + "/vocals.flac").status_code == 404
    assert client.get("/v1/separations/../../etc/vocals.flac").status_code == 404


@pytest.mark.parametrize(("kwargs", "status", "message"), [
    ({"files": {"file": ("notes.txt", b"hello", "text/plain")}}, 415, "unsupported content"),
    ({"files": {"file": ("song.mp3", b"ID3" + b"\0" * 500, "audio/mpeg")}}, 422,
     "song.mp3: not a decodable audio file"),
    ({"files": {"file": ("empty.wav", b"", "audio/wav")}}, 422, "empty"),
    ({"files": {"other": ("x.wav", b"RIFF", "audio/wav")}}, 422, "no 'file' field"),
    ({"content": b"\0" * 10, "headers": {"Content-Type": "image/png"}}, 415, "image/png"),
])
def test_bad_uploads_get_a_clear_4xx(client, kwargs, status, message):
    response = client.post("/v1/detect", **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_size_and_duration_limits(catalog_db, wav_bytes, tmp_path):
    long = tmp_path / "long.wav"
    sf.write(str(long), [[0.0]] * (8000 * 4), 8000)
    with running(debug_config(max_upload_mb=0.2, max_duration_s=3.0)) as url:
        big = httpx.post(f"{url}/v1/detect", content=b"\0" * 300_000 + wav_bytes,
                         headers={"Content-Type": "audio/wav"})
        assert big.status_code == 413 and "over the limit" in big.json()["detail"]
        too_long = httpx.post(f"{url}/v1/detect", files={"file": ("long.wav",
                                                                  long.read_bytes())})
        assert too_long.status_code == 413 and "long.wav: 4 s" in too_long.json()["detail"]
        assert httpx.get(f"{url}/v1/tracks").status_code == 404  # no catalog given


def test_tracks_list_search_sort_page(client):
    listing = client.get("/v1/tracks").json()
    assert listing["total"] == 3
    names = [t["path"].rsplit("/", 1)[1] for t in listing["tracks"]]
    assert names == ["broken.mp3", "mono.flac", "stereo song.wav"]
    longest = client.get("/v1/tracks", params={"sort": "duration_s", "desc": True,
                                               "status": "ok"}).json()
    assert [t["duration_s"] for t in longest["tracks"]] == [3.0, 2.0]
    assert client.get("/v1/tracks", params={"search": "SONG"}).json()["total"] == 1
    page = client.get("/v1/tracks", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and len(page["tracks"]) == 1
    assert client.get("/v1/tracks", params={"sort": "evil; drop"}).status_code == 422
    assert client.get("/v1/tracks", params={"limit": 0}).status_code == 422
    assert "regions" not in listing["tracks"][2]["results"]["detect"]


def test_track_detail_audio_ranges_and_stems(client):
    ids = {t["path"].rsplit("/", 1)[1]: t["id"] for t in client.get("/v1/tracks").json()[
        "tracks"]}
    track = client.get(f"/v1/tracks/{ids['stereo song.wav']}").json()
    assert track["channels"] == 2 and "regions" in track["results"]["detect"]
    assert set(track["stem_urls"]) == {"vocals", "accompaniment"}
    audio = client.get(track["audio_url"], headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and len(audio.content) == 100
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.headers["accept-ranges"] == "bytes"
    stem = client.get(track["stem_urls"]["vocals"])
    assert stem.status_code == 200 and stem.content[:4] == b"fLaC"
    for sneaky in ("../../x", "..%2F..%2Fcatalog.db", "%2Fetc%2Fpasswd"):
        response = client.get(f"/v1/tracks/{ids['stereo song.wav']}/stems/{sneaky}")
        assert response.status_code in (404, 422) and b"root:" not in response.content
    assert client.get(f"/v1/tracks/{ids['stereo song.wav']}/stems/drums").status_code == 404
    assert client.get(f"/v1/tracks/{ids['broken.mp3']}").json()["status"] == "failed"
    assert client.get("/v1/tracks/999").status_code == 404
    peaks = client.get(f"/v1/tracks/{ids['mono.flac']}/peaks", params={"bins": 50}).json()
    assert len(peaks["min"]) == len(peaks["max"]) == 50
    assert all(lo <= hi for lo, hi in zip(peaks["min"], peaks["max"], strict=True))


def test_pages_and_token_cookie(server):
    with httpx.Client(follow_redirects=True) as browser:
        page = browser.get(f"{server}/tracks/1", params={"token": "s3cret"})
        cookie = browser.cookies.get("cantata_token")
    assert page.status_code == 200 and "track.js" in page.text
    assert str(page.url).endswith("/tracks/1") and page.history[0].status_code == 303
    assert cookie == "s3cret"
    script = httpx.get(f"{server}/static/track.js", cookies={"cantata_token": cookie})
    assert script.status_code == 200 and "text/javascript" in script.headers["content-type"]
    assert httpx.get(f"{server}/static/app.py", cookies={"cantata_token": cookie}
                     ).status_code == 404
    docs = httpx.get(f"{server}/openapi.json", headers=AUTH)
    assert "/v1/detect" in docs.json()["paths"]


def test_concurrent_requests_share_forward_passes(catalog_db, wav_bytes):
    async def burst(url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            responses = await asyncio.gather(*(c.post("/v1/detect", content=wav_bytes,
                                                      headers={"Content-Type": "audio/wav"})
                                               for _ in range(8)))
            return responses, (await c.get("/metrics")).text

    with running(debug_config(batching=_batching(max_batch_size=8, max_wait_ms=300))) as url:
        responses, metrics = asyncio.run(burst(url))
    assert all(r.status_code == 200 for r in responses)
    assert len({str(r.json()["regions"]) for r in responses}) == 1
    count = _metric(metrics, 'cantata_batch_size_count{model="detect"}')
    total = _metric(metrics, 'cantata_batch_size_sum{model="detect"}')
    assert total == 8 and count < 8  # 8 requests in fewer forward passes
    assert 'cantata_request_seconds_bucket{le="0.005",method="POST",route="/v1/detect"}' \
        in metrics
    assert 'cantata_queue_depth{model="detect"} 0.0' in metrics


def test_a_full_queue_answers_503_with_retry_after(wav_bytes, monkeypatch):
    from cantata.analyzers.detect import DetectAnalyzer

    original = DetectAnalyzer.analyze

    def slow(self, items):
        import time

        time.sleep(0.3)
        return original(self, items)

    monkeypatch.setattr(DetectAnalyzer, "analyze", slow)

    async def flood(url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            return await asyncio.gather(*(c.post("/v1/detect", content=wav_bytes,
                                                 headers={"Content-Type": "audio/wav"})
                                          for _ in range(6)))

    config = debug_config(batching=_batching(max_batch_size=1, max_wait_ms=0, max_queue=1))
    with running(config) as url:
        responses = asyncio.run(flood(url))
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 503 in codes
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1" and "busy" in busy.json()["detail"]


def _batching(**kw):
    from cantata.serve import BatchingConfig

    return BatchingConfig(**kw)


def _metric(text, name):
    line = next(line for line in text.splitlines() if line.startswith(name))
    return float(line.split()[-1])
