"""``POST /v1/assess`` and the quality on ``GET /v1/tracks/{id}``."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from fastapi.testclient import TestClient

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.scan import scan
from cantata.serve import ServeConfig, create_app

from .conftest import noise, sine


def test_assess_route_and_track_quality(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    clipped = lib / "clipped.wav"
    sf.write(clipped, np.clip(sine(100, 0, 2, 44100) * 2, -0.8, 0.8).T, 44100)
    sf.write(lib / "clean.flac", noise(2.0, level=0.05).T, 44100, subtype="PCM_16")
    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        scan(lib, catalog, resolve("assess"), backend="inline")
    config = ServeConfig(db=db, detect_model="debug", separate_model="debug", token="s3cret")
    with TestClient(create_app(config), headers={"Authorization": "Bearer s3cret"}) as client:
        answer = client.post("/v1/assess", files={"file": ("clipped.wav",
                                                            clipped.read_bytes(), "audio/wav")})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["file"] == "clipped.wav" and body["grade"] == "D"
        assert body["clipping"]["runs"] > 0 and body["truncated"] is False
        tracks = client.get("/v1/tracks", params={"sort": "quality"}).json()["tracks"]
        assert [t["path"].rsplit("/", 1)[1] for t in tracks] == ["clean.flac", "clipped.wav"]
        track = client.get(f"/v1/tracks/{tracks[1]['id']}").json()
        assert track["quality"]["grade"] == "D" and track["quality"]["file"] == track["path"]
