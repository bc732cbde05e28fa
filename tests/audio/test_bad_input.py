"""Every kind of bad input gets an AudioLoadError that names the file and the problem."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from cantata import audio
from cantata.errors import AudioLoadError, CantataError
from cantata.testing import noise


def good_wav(path, **kwargs):
    wav = noise(duration_s=1.0, n_channels=2, **kwargs)
    sf.write(str(path), wav.samples.T, wav.sample_rate, subtype="PCM_16")
    return path


def assert_rejected(path, problem, **load_kwargs):
    with pytest.raises(AudioLoadError) as info:
        audio.load(path, **load_kwargs)
    assert str(path) in str(info.value)
    assert problem in info.value.problem
    assert isinstance(info.value, CantataError)


def test_missing_file(tmp_path):
    assert_rejected(tmp_path / "nope.wav", "no such file")


def test_directory(tmp_path):
    assert_rejected(tmp_path, "is a directory")


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    assert_rejected(tmp_path / "empty.mp3", "empty file")


def test_text_file_named_mp3(tmp_path):
    (tmp_path / "song.mp3").write_text("this is not audio\n" * 50)
    assert_rejected(tmp_path / "song.mp3", "not a decodable audio file")


def test_random_bytes_named_wav(tmp_path):
    (tmp_path / "song.wav").write_bytes(os.urandom(4096))
    assert_rejected(tmp_path / "song.wav", "not a decodable audio file")


def test_header_only(tmp_path):
    data = good_wav(tmp_path / "full.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[:30])
    assert_rejected(tmp_path / "cut.flac", "not a decodable audio file")


def test_corrupt_flac_frames(tmp_path):
    data = bytearray(good_wav(tmp_path / "full.flac").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 2000] = np.random.default_rng(0).bytes(2000)
    (tmp_path / "bad.flac").write_bytes(bytes(data))
    assert_rejected(tmp_path / "bad.flac", "corrupt")


def test_truncated_wav_loads_the_samples_present(tmp_path):
    """A cut-off WAV is still valid PCM: the samples present are returned, exactly."""
    full = good_wav(tmp_path / "full.wav")
    data = full.read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: 44 + 4 * 6000])  # header + 6000 stereo frames
    got = audio.load(tmp_path / "cut.wav")
    assert got.n_samples == 6000
    np.testing.assert_array_equal(got.samples, audio.load(full).samples[:, :6000])


def test_zero_length_audio(tmp_path):
    sf.write(str(tmp_path / "zero.wav"), np.zeros((0, 2), np.float32), 16000)
    assert_rejected(tmp_path / "zero.wav", "contains no audio samples")


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, bad_value):
    x = np.zeros((16000, 1), np.float32)
    x[8000] = bad_value
    sf.write(str(tmp_path / "nan.wav"), x, 16000, subtype="FLOAT")
    assert_rejected(tmp_path / "nan.wav", "non-finite samples (NaN or Inf), first at 0.500 s")


def test_non_finite_samples_found_while_streaming(tmp_path):
    x = np.zeros((16000 * 3, 1), np.float32)
    x[-10] = np.nan
    sf.write(str(tmp_path / "nan.wav"), x, 16000, subtype="FLOAT")
    stream = audio.stream(tmp_path / "nan.wav", block_s=0.5)
    with pytest.raises(AudioLoadError, match="non-finite"):
        list(stream)


def test_offset_past_the_end(tmp_path):
    assert_rejected(good_wav(tmp_path / "x.wav"), "past the end", offset_s=5.0)


@pytest.mark.parametrize(("kwargs", "problem"), [({"offset_s": -1.0}, "offset_s must be >= 0"),
                                                 ({"duration_s": 0.0}, "duration_s must be > 0")])
def test_bad_range_arguments(tmp_path, kwargs, problem):
    assert_rejected(good_wav(tmp_path / "x.wav"), problem, **kwargs)


def test_info_of_bad_file_is_an_error_too(tmp_path):
    (tmp_path / "x.ogg").write_text("nope")
    with pytest.raises(AudioLoadError, match="x.ogg"):
        audio.info(tmp_path / "x.ogg")


def test_wav_with_a_codec_nothing_decodes(tmp_path):
    """A RIFF/WAVE header naming an unknown format tag (here Ogg-in-WAV, 0x674F)."""
    import struct

    fmt = struct.pack("<HHIIHH", 0x674F, 1, 44100, 11025, 1, 16)
    data = b"\x00" * 4000
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + \
        struct.pack("<I", len(data)) + data
    (tmp_path / "odd.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(AudioLoadError, match="odd.wav: no decoder for its audio codec"):
        audio.load(tmp_path / "odd.wav")
    with pytest.raises(AudioLoadError):
        audio.info(tmp_path / "odd.wav")
