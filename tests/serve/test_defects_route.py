"""``POST /v1/defects``: defect events and the song verdict of uploaded audio."""

from __future__ import annotations

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from cantata import audio
from cantata.defects import DefectDetector
from cantata.serve import ServeConfig, create_app
from cantata.testing import noise

AUTH = {"Authorization": "Bearer s3cret"}


def config(**kw) -> ServeConfig:
    return ServeConfig(detect_model="debug-multilabel", separate_model="debug",
                       token="s3cret", **kw)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(config(defects_model="debug")), headers=AUTH,
                    raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def clicky(tmp_path):
    """A 3 s stereo file with a few loud clicks."""
    wav = noise(duration_s=3.0, sample_rate=22050, n_channels=2, seed=3).samples * 0.3
    wav[:, [11025, 33075, 55000]] = 0.99
    path = tmp_path / "clicky.wav"
    sf.write(str(path), wav.T, 22050)
    return path


def test_defects_answers_the_issue_json(client, clicky):
    response = client.post("/v1/defects", files={"file": ("clicky.wav", clicky.read_bytes(),
                                                          "audio/wav")})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = DefectDetector.from_pretrained("debug").detect(audio.load(clicky))
    assert body == expected.to_dict("clicky.wav")  # what `cantata defects` writes
    assert set(body) == {"file", "model", "duration_s", "events", "verdict"}
    assert body["model"] == "debug" and body["duration_s"] == pytest.approx(3.0)
    verdict = body["verdict"]
    assert set(verdict) == {"defective", "types", "score"}
    assert tuple(verdict["types"]) == DefectDetector.from_pretrained("debug").types
    assert verdict["defective"] == bool(body["events"])
    for event in body["events"]:
        assert set(event) == {"type", "start", "end", "confidence"}
        assert 0 <= event["start"] <= event["end"] <= 3.0
    counts = {t: sum(e["type"] == t for e in body["events"]) for t in verdict["types"]}
    assert counts == verdict["types"]


def test_defects_raw_body_and_bad_upload(client, clicky):
    raw = client.post("/v1/defects", content=clicky.read_bytes(),
                      headers={"Content-Type": "audio/wav", "X-Filename": "take.wav"})
    assert raw.status_code == 200 and raw.json()["file"] == "take.wav"
    bad = client.post("/v1/defects", files={"file": ("song.mp3", b"ID3" + b"\0" * 500,
                                                     "audio/mpeg")})
    assert bad.status_code == 422 and "song.mp3" in bad.json()["detail"]
    assert TestClient(client.app).post("/v1/defects", content=b"").status_code == 401


def test_the_server_loads_the_configured_defects_model(client):
    assert client.get("/healthz").json()["models"]["defects"] == "debug"
    assert config().model_for("defects") is None  # the capability's default

