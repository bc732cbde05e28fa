"""MUSDB18 loader: decoded track folders and native .stem.mp4 files."""

from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from cantata.data.sources import load_musdb, read_stem, read_stems
from cantata.data.sources.musdb import STREAM_ORDER
from cantata.errors import ConfigError
from cantata.testing import sine

RATE = 16000
FREQS = {"mixture": 300.0, "drums": 500.0, "bass": 700.0, "other": 900.0, "vocals": 1100.0}


def write_track(folder: Path, names=tuple(FREQS)) -> None:
    folder.mkdir(parents=True)
    for name in names:
        sf.write(folder / f"{name}.wav", sine(FREQS[name], duration_s=0.3, amplitude=0.2)
                 .samples.T, RATE, subtype="FLOAT")


def write_stem_mp4(path: Path, n_streams: int = 5, rate: int = 44100) -> None:
    """A .stem.mp4 with one AAC stream per stem, each a sine of the stem's frequency."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        streams = [container.add_stream("aac", rate=rate, layout="stereo")
                   for _ in range(n_streams)]
        for stream, name in zip(streams, STREAM_ORDER, strict=False):
            x = np.tile(sine(FREQS[name], duration_s=0.5, sample_rate=rate).samples, (2, 1))
            for start in range(0, x.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, start:start + 1024]),
                                                   format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = rate, start
                for packet in stream.encode(frame):
                    container.mux(packet)
        for stream in streams:
            for packet in stream.encode(None):
                container.mux(packet)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.mean(axis=0)))
    return float(np.argmax(spectrum) * rate / samples.shape[1])


def test_decoded_folders(tmp_path):
    write_track(tmp_path / "train" / "Artist A - Song One")
    write_track(tmp_path / "test" / "Band B - Other Song")
    examples = load_musdb(tmp_path)
    assert [ex.id for ex in examples] == ["musdb18/test/Band B - Other Song",
                                          "musdb18/train/Artist A - Song One"]
    assert [ex.group for ex in examples] == ["Band B", "Artist A"]
    assert [ex.meta["split"] for ex in examples] == ["test", "train"]
    assert set(examples[0].stems) == {"vocals", "drums", "bass", "other"}
    assert examples[0].audio.endswith("mixture.wav") and examples[0].source == "musdb18"
    assert [ex.id for ex in load_musdb(tmp_path, subset="train")] == [examples[1].id]


def test_accompaniment_is_drums_plus_bass_plus_other(tmp_path):
    write_track(tmp_path / "train" / "A - B")
    [example] = load_musdb(tmp_path)
    stems = read_stems(example)
    expected = sum(sine(FREQS[n], duration_s=0.3, amplitude=0.2).samples
                   for n in ("drums", "bass", "other"))
    np.testing.assert_allclose(stems["accompaniment"].samples, expected, atol=1e-6)
    np.testing.assert_allclose(stems["vocals"].samples,
                               sine(FREQS["vocals"], duration_s=0.3, amplitude=0.2).samples,
                               atol=1e-6)


def test_stem_mp4_streams(tmp_path):
    write_stem_mp4(tmp_path / "test" / "Artist C - Live.stem.mp4")
    [example] = load_musdb(tmp_path)
    assert example.id == "musdb18/test/Artist C - Live" and example.group == "Artist C"
    assert example.meta["streams"]["vocals"] == 4
    vocals = read_stem(example, "vocals", offset_s=0.1, duration_s=0.3)
    assert vocals.n_channels == 2 and vocals.n_samples == round(0.3 * 44100)
    assert dominant_hz(vocals.samples, 44100) == pytest.approx(FREQS["vocals"], abs=10)
    drums = read_stem(example, "drums", sample_rate=RATE)
    assert drums.sample_rate == RATE
    assert dominant_hz(drums.samples, RATE) == pytest.approx(FREQS["drums"], abs=10)


@pytest.mark.parametrize("case", ["missing", "empty", "incomplete", "subset", "one-stream"])
def test_bad_layouts(tmp_path, case):
    root = tmp_path / "nowhere" if case == "missing" else tmp_path
    match = re.escape(str(root))
    if case == "incomplete":
        write_track(tmp_path / "train" / "A - B", names=("mixture", "vocals", "bass"))
        match = "drums, other"
    if case == "subset":
        match = "subset"
    if case == "one-stream":
        write_stem_mp4(tmp_path / "train" / "A - B.stem.mp4", n_streams=1)
        match = "5 audio streams"
    with pytest.raises(ConfigError, match=match):
        load_musdb(root, subset="valid" if case == "subset" else None)
