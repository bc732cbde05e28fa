"""Query by example over HTTP: ``POST /v1/search`` and ``GET /v1/tracks/{id}/similar``, on a
catalog scanned with the debug embedder."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from fastapi.testclient import TestClient

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.cli import main
from cantata.embed import query
from cantata.scan import scan
from cantata.serve import ServeConfig, create_app
from cantata.testing import write_search_library

RATE = 16000
AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return write_search_library(tmp_path_factory.mktemp("music"), sample_rate=RATE)


@pytest.fixture(scope="module")
def db(library, tmp_path_factory):
    path = tmp_path_factory.mktemp("cat") / "cat.db"
    with Catalog(path) as catalog:
        scan(library, catalog, resolve("embed=debug"))
    return path


@pytest.fixture(scope="module")
def client(db):
    config = ServeConfig(db=db, detect_model="debug-multilabel", separate_model="debug",
                         token="s3cret")
    with TestClient(create_app(config), headers=AUTH) as c:
        yield c


def ids(client):
    return {t["path"].rsplit("/", 1)[1]: t["id"]
            for t in client.get("/v1/tracks").json()["tracks"]}


def test_search_ranks_tracks_like_the_command(client, library, db, capsys):
    data = (library / "tones.wav").read_bytes()
    answer = client.post("/v1/search?k=2&start=3&duration=3",
                         files={"file": ("tones.wav", data, "audio/wav")})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["query"] == {"file": "tones.wav", "duration_s": 3.0, "model_version": "debug"}
    results = body["results"]
    assert len(results) == 2 and results[0]["path"].endswith("tones.wav")
    assert results[0]["offset_s"] == pytest.approx(3.0, abs=0.01)
    assert results[0]["distance"] < results[1]["distance"]
    assert results[0]["track_id"] == ids(client)["tones.wav"]
    assert main(["search", str(library / "tones.wav"), "--db", str(db), "-k", "2",
                 "--start", "3", "--duration", "3", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)["matches"]
    assert [(m["track_id"], round(m["distance"], 4)) for m in cli] == \
        [(r["track_id"], round(r["distance"], 4)) for r in results]
    raw = client.post("/v1/search", content=data,
                      headers={"Content-Type": "audio/wav", "X-Filename": "take.wav"})
    assert raw.status_code == 200 and raw.json()["query"]["file"] == "take.wav"
    assert len(raw.json()["results"]) == 3


def test_search_refusals(client, library, tmp_path):
    data = (library / "tones.wav").read_bytes()
    wav = {"file": ("tones.wav", data, "audio/wav")}
    assert client.post("/v1/search", files=wav, headers={"Authorization": "Bearer no"}
                       ).status_code == 401
    assert client.post("/v1/search?k=0", files=wav).status_code == 422
    assert client.post("/v1/search?duration=0", files=wav).status_code == 422
    late = client.post("/v1/search?start=60", files=wav)
    assert late.status_code == 422 and "past the clip's end" in late.json()["detail"]
    assert client.post("/v1/search", content=b"\0" * 10,
                       headers={"Content-Type": "image/png"}).status_code == 415
    bare = tmp_path / "bare.db"
    with Catalog(bare) as catalog:
        scan(library, catalog, resolve("detect=debug-multilabel"))
    config = ServeConfig(db=bare, detect_model="debug-multilabel", separate_model="debug",
                         token="s3cret")
    with TestClient(create_app(config), headers=AUTH) as other:
        refused = other.post("/v1/search", files=wav)
        assert refused.status_code == 409
        assert "--analyzers embed" in refused.json()["detail"]
        some = other.get("/v1/tracks").json()["tracks"][0]["id"]
        assert other.get(f"/v1/tracks/{some}/similar").status_code == 409


def test_similar_tracks(client):
    known = ids(client)
    tones = known["tones.wav"]
    body = client.get(f"/v1/tracks/{tones}/similar?k=5").json()
    assert body["track_id"] == tones
    found = [r["track_id"] for r in body["results"]]
    assert sorted(found) == sorted(v for k, v in known.items() if k != "tones.wav")
    assert all(r["distance"] >= 0 and "offset_s" in r and r["path"] for r in body["results"])
    distances = [r["distance"] for r in body["results"]]
    assert distances == sorted(distances)
    assert len(client.get(f"/v1/tracks/{tones}/similar?k=1").json()["results"]) == 1
    assert client.get("/v1/tracks/999/similar").status_code == 404
    assert client.get(f"/v1/tracks/{tones}/similar?k=0").status_code == 422
    assert body["passage"] is None


def test_more_like_a_passage(client):
    tones = ids(client)["tones.wav"]
    whole = client.get(f"/v1/tracks/{tones}/similar").json()["results"]
    part = client.get(f"/v1/tracks/{tones}/similar?start=6&end=9").json()
    assert part["passage"] == {"start_s": 6.0, "end_s": 9.0}
    assert {r["track_id"] for r in part["results"]} == {r["track_id"] for r in whole}
    assert part["results"][0]["distance"] >= whole[0]["distance"]  # fewer segments to match
    for bad in ("start=3", "start=5&end=4", "start=-1&end=2"):
        assert client.get(f"/v1/tracks/{tones}/similar?{bad}").status_code == 422
    late = client.get(f"/v1/tracks/{tones}/similar?start=100&end=110")
    assert late.status_code == 422 and "no segment between 100 and 110 s" in late.text



def test_the_server_keeps_the_index_while_the_embeddings_are_unchanged(db):
    with Catalog(db, create=False) as catalog:
        first = query.open_index(catalog, "debug", keep=True)
        again = query.open_index(catalog, "debug", keep=True)
        assert again.index is first.index and again.catalog is catalog
        assert query.open_index(catalog, "debug").index is not first.index  # not kept
        for held in query._HELD.values():
            held.info["fingerprint"] = "stale"  # as after a re-scan
        assert query.open_index(catalog, "debug", keep=True).index is not first.index


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_search_with_a_browser_recording(client, library, tmp_path):
    """What Chromium's MediaRecorder uploads: webm/opus written as a stream (no duration, no
    cues) and ogg/opus, under a recording's name or a bare blob's."""
    for fmt, kind in (("webm", "audio/webm;codecs=opus"), ("ogg", "audio/ogg;codecs=opus")):
        encoded = subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-ss", "3", "-t", "3", "-i",
             str(library / "tones.wav"), "-c:a", "libopus", "-f", fmt, "pipe:1"],
            capture_output=True, check=True).stdout  # the 330 Hz passage
        for name in (f"recording.{fmt}", "blob"):
            answer = client.post("/v1/search?k=3", files={"file": (name, encoded, kind)})
            assert answer.status_code == 200, (fmt, name, answer.text)
            body = answer.json()
            assert body["query"]["file"] == name
            assert body["query"]["duration_s"] == pytest.approx(3.0, abs=0.05)
            best = body["results"][0]
            assert best["path"].endswith("tones.wav")
            assert best["offset_s"] == pytest.approx(3.0, abs=0.1)
