"""The track page player's routes: a stem's peaks and the spectrogram PNG, streamed."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
import soundfile as sf
from conftest import running
from PIL import Image

from cantata.catalog import Catalog, Result, TrackFacts
from cantata.serve import ServeConfig, peaks, spectrogram

RATE = 16000
AUTH = {"Authorization": "Bearer t0ken"}


def tones(seconds: float, low_hz: float, high_hz: float) -> np.ndarray:
    """``low_hz`` for the first half, ``high_hz`` for the second, at half scale."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * np.where(t < seconds / 2, low_hz, high_hz) * t)
            ).astype(np.float32)


def player_catalog(root, seconds=12.0):
    """One track of two tones, separated into a vocals and an accompaniment stem, and a
    drums stem whose file is gone."""
    song = root / "song.wav"
    sf.write(str(song), tones(seconds, 440, 3000), RATE)
    stems = {"vocals": root / "vocals.flac", "accompaniment": root / "accompaniment.flac",
             "drums": root / "gone.flac"}
    sf.write(str(stems["vocals"]), tones(seconds, 440, 440), RATE)
    sf.write(str(stems["accompaniment"]), 0.1 * tones(seconds, 3000, 3000), RATE)
    separate = Result("separate", "1", "debug", "debug", {},
                      stems={name: str(path) for name, path in stems.items()})
    with Catalog(root / "catalog.db") as catalog:
        catalog.write_track(TrackFacts(str(song), "1" * 32, song.stat().st_size,
                                       song.stat().st_mtime_ns, duration_s=seconds,
                                       sample_rate=RATE, channels=1), [separate])
    return root / "catalog.db"


def player_config(db) -> ServeConfig:
    return ServeConfig(db=db, detect_model="debug-multilabel", separate_model="debug",
                       token="t0ken")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = player_catalog(tmp_path_factory.mktemp("player"))
    with running(player_config(db)) as url, httpx.Client(base_url=url, headers=AUTH,
                                                         timeout=60) as c:
        yield c


def test_stem_peaks_and_why_a_stem_cannot_be_had(client):
    mix = client.get("/v1/tracks/1/peaks", params={"bins": 100}).json()
    vocals = client.get("/v1/tracks/1/peaks", params={"bins": 100, "stem": "vocals"}).json()
    quiet = client.get("/v1/tracks/1/peaks", params={"bins": 100, "stem": "accompaniment"})
    assert vocals["bins"] == 100 and vocals["duration_s"] == pytest.approx(12.0)
    assert max(vocals["max"]) == pytest.approx(0.5, abs=0.01) == max(mix["max"])
    assert max(quiet.json()["max"]) == pytest.approx(0.05, abs=0.01)
    gone = client.get("/v1/tracks/1/peaks", params={"stem": "drums"})
    assert gone.status_code == 404 and "gone.flac" in gone.json()["detail"]
    assert "no longer there" in gone.json()["detail"]
    unknown = client.get("/v1/tracks/1/peaks", params={"stem": "bass"})
    assert unknown.status_code == 404 and "no stem 'bass'" in unknown.json()["detail"]


def test_spectrogram_png_shows_the_tones_where_they_are(client):
    answer = client.get("/v1/tracks/1/spectrogram", params={"width": 240, "height": 96})
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert image.size == (240, 96) and image.mode == "P"
    level = np.asarray(image)  # palette indices: brighter is louder
    low, high = level[:, 20].argmax(), level[:, 220].argmax()
    assert low > high + 20  # 440 Hz then 3 kHz: the bright row rises (row 0 is the top)
    stem = client.get("/v1/tracks/1/spectrogram", params={"width": 240, "height": 96,
                                                          "stem": "vocals"})
    assert np.asarray(Image.open(io.BytesIO(stem.content)))[:, 220].argmax() == low
    for bad in ({"width": 8}, {"height": 5000}):
        assert client.get("/v1/tracks/1/spectrogram", params=bad).status_code == 422
    assert client.get("/v1/tracks/1/spectrogram", params={"stem": "drums"}).status_code == 404
    assert client.get("/v1/tracks/7/spectrogram").status_code == 404
    assert httpx.get(f"{client.base_url}/v1/tracks/1/spectrogram").status_code == 401


def test_streaming_in_blocks_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "tones.wav"
    sf.write(str(path), tones(5.0, 440, 3000), RATE)
    whole = spectrogram.spectrogram(str(path), 100, 32)
    envelope = peaks._envelope.__wrapped__(str(path), "k", 77)
    monkeypatch.setattr(spectrogram, "BLOCK_S", 0.37)
    monkeypatch.setattr(peaks, "BLOCK_S", 0.37)
    np.testing.assert_allclose(spectrogram.spectrogram(str(path), 100, 32), whole, atol=1e-3)
    assert peaks._envelope.__wrapped__(str(path), "k", 77) == envelope


def test_png_is_a_valid_palette_image():
    indices = np.arange(256, dtype=np.uint8).reshape(8, 32)
    image = Image.open(io.BytesIO(spectrogram.png(indices, spectrogram.palette())))
    image.load()
    np.testing.assert_array_equal(np.asarray(image), indices)
    assert image.getpalette()[:3] == [0, 0, 4]
