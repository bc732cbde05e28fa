"""``POST /v1/tag``: the tags of uploaded audio (the shipped tagger unless one is named)."""

from __future__ import annotations

import soundfile as sf
from fastapi.testclient import TestClient

from cantata import audio
from cantata.serve import ServeConfig, create_app
from cantata.tag import Tagger
from cantata.testing import noise

AUTH = {"Authorization": "Bearer s3cret"}


def config(**kw) -> ServeConfig:
    return ServeConfig(detect_model="debug-multilabel", separate_model="debug",
                       token="s3cret", **kw)


def test_tag_answers_what_cantata_tag_writes(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(str(path), noise(duration_s=2.5, sample_rate=22050, seed=3).samples.T, 22050)
    with TestClient(create_app(config(tag_model="debug")), headers=AUTH,
                    raise_server_exceptions=False) as client:
        response = client.post("/v1/tag", files={"file": ("song.wav", path.read_bytes(),
                                                          "audio/wav")})
    assert response.status_code == 200, response.text
    expected = Tagger.from_pretrained("debug").tag(audio.load(path)).to_dict("song.wav")
    assert response.json() == expected


def test_the_shipped_tagger_is_served_by_default(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(str(path), noise(duration_s=3.0, sample_rate=16000, seed=5).samples.T, 16000)
    with TestClient(create_app(config()), headers=AUTH) as client:
        response = client.post("/v1/tag", files={"file": ("song.wav", path.read_bytes(),
                                                          "audio/wav")})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "tagger" and len(response.json()["tags"]) == 50
