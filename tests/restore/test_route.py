"""``POST /v1/restore``: a restored copy of uploaded audio, served when a restorer is named."""

from __future__ import annotations

import io

import soundfile as sf
from fastapi.testclient import TestClient

from cantata.capabilities import capability
from cantata.serve import ServeConfig, create_app
from cantata.testing import noise

AUTH = {"Authorization": "Bearer s3cret"}


def config(**kw) -> ServeConfig:
    return ServeConfig(detect_model="debug-multilabel", separate_model="debug",
                       token="s3cret", **kw)


def test_restore_returns_a_file_at_the_uploads_rate_and_channels(tmp_path):
    path = tmp_path / "take.wav"
    sf.write(str(path), noise(duration_s=0.5, sample_rate=22050, n_channels=2).samples.T, 22050)
    with TestClient(create_app(config(restore_model="debug")), headers=AUTH,
                    raise_server_exceptions=False) as client:
        response = client.post("/v1/restore", files={"file": ("take.wav", path.read_bytes(),
                                                              "audio/wav")})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["file"], body["model"], body["duration_s"]) == ("take.wav", "debug", 0.5)
        restored = client.get(body["restored"])
        assert client.get("/v1/restorations/" + "0" * 32 + "/restored.flac").status_code == 404
    assert restored.status_code == 200
    data, rate = sf.read(io.BytesIO(restored.content))
    assert rate == 22050 and data.shape == (11025, 2)


def test_without_a_model_named_the_route_exists_when_a_restorer_ships():
    ships = bool(capability("restore").shipped)
    with TestClient(create_app(config()), headers=AUTH) as client:
        status = client.post("/v1/restore", content=b"").status_code
    assert (status not in (404, 405)) == ships
