"""The value types: arrays as librosa / soundfile users hold them, results easy to use."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cantata.errors import ConfigError, ShapeError
from cantata.types import Segment, Stems, Waveform, as_source


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_time_major_array_is_transposed(channels):
    y = np.random.default_rng(0).uniform(-1, 1, (1000, channels))   # soundfile.read's layout
    wav = Waveform(y, 44100)
    assert (wav.n_channels, wav.n_samples) == (channels, 1000)
    np.testing.assert_allclose(wav.samples, y.T.astype(np.float32))
    assert wav.samples.flags.c_contiguous


def test_channel_major_array_is_kept():
    y = np.zeros((2, 1000), np.float32)
    assert Waveform(y, 44100).samples.shape == (2, 1000)
    assert Waveform(np.zeros((2, 1)), 8000).samples.shape == (2, 1)   # at most 8 rows: channels


def test_ambiguous_array_is_refused():
    with pytest.raises(ShapeError, match=r"\(100, 20\).*8 channels"):
        Waveform(np.zeros((100, 20)), 44100)


@pytest.mark.parametrize(("dtype", "values", "expected"), [
    (np.int16, [-32768, 0, 16384], [-1.0, 0.0, 0.5]),
    (np.int32, [-2**31, 2**30, 0], [-1.0, 0.5, 0.0]),
    (np.uint8, [0, 128, 192], [-1.0, 0.0, 0.5]),
    (np.int8, [-128, 64, 0], [-1.0, 0.5, 0.0]),
])
def test_integer_pcm_is_scaled(dtype, values, expected):
    wav = Waveform(np.array(values, dtype), 8000)
    assert wav.samples.dtype == np.float32
    np.testing.assert_allclose(wav.samples[0], expected)


def test_as_source_takes_arrays_with_their_rate():
    y = np.zeros((4410, 2), np.int16)
    for wav in (as_source(y, 44100), as_source(y, sample_rate=44100),
                as_source(y, sr=44100, sample_rate=44100)):
        assert isinstance(wav, Waveform) and wav.sample_rate == 44100 and wav.n_channels == 2
    assert as_source([0.0, 0.5], sr=8000).n_samples == 2


def test_as_source_passes_files_and_waveforms():
    wav = Waveform(np.zeros(10), 8000)
    assert as_source(wav) is wav and as_source(wav, sr=8000) is wav
    assert as_source("song.mp3") == "song.mp3" and as_source(Path("a.wav")) == Path("a.wav")


@pytest.mark.parametrize(("src", "kwargs", "message"), [
    (np.zeros(100), {}, "needs its sample rate"),
    (np.zeros(100), {"sr": 8000, "sample_rate": 16000}, "sr=8000 and sample_rate=16000"),
    (Waveform(np.zeros(10), 8000), {"sr": 16000}, "Waveform at 8000 Hz"),
    ("song.mp3", {"sr": 16000}, "the file's own rate"),
])
def test_as_source_refuses_unclear_rates(src, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        as_source(src, **kwargs)


def test_segment_to_dict_is_json():
    segment = Segment(np.float64(1.25), np.float32(2.5), "vocal", np.float32(0.875))
    assert segment.to_dict() == {"start_s": 1.25, "end_s": 2.5, "label": "vocal",
                                 "confidence": 0.875}
    assert json.loads(json.dumps(segment.to_dict())) == segment.to_dict()
    assert Segment(1 / 3, 1, "vocal").to_dict(ndigits=3)["start_s"] == 0.333


def test_stems_is_a_mapping():
    vocals, backing = Waveform(np.zeros(10), 8000), Waveform(np.ones(10), 8000)
    stems = Stems({"vocals": vocals, "accompaniment": backing}, 8000)
    assert "vocals" in stems and "drums" not in stems
    assert list(stems.keys()) == ["vocals", "accompaniment"] == list(stems) == list(stems.names)
    assert len(stems) == 2 and dict(stems.items()) == {"vocals": vocals, "accompaniment": backing}
    assert stems.get("drums") is None and stems["accompaniment"] is backing
