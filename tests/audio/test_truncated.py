"""A file whose header promises more audio than it holds is reported truncated (issue 35.17)."""

from __future__ import annotations

import struct

import pytest
import soundfile as sf

from cantata import audio
from cantata.testing import noise, write_compressed


def wav_file(path, seconds=2.0):
    wav = noise(duration_s=seconds, sample_rate=16000, n_channels=2, amplitude=0.3, seed=2)
    sf.write(str(path), wav.samples.T, wav.sample_rate, subtype="PCM_16")
    return path


def mp3_file(path, seconds=4.0):
    return write_compressed(path, noise(duration_s=seconds, sample_rate=44100, n_channels=2,
                                        amplitude=0.3, seed=2))


def cut(path, keep):
    """A copy of ``path`` with only the first ``keep`` fraction of its bytes."""
    data = path.read_bytes()
    dest = path.with_name(f"cut{path.suffix}")
    dest.write_bytes(data[:int(len(data) * keep)])
    return dest


def test_cut_wav_is_truncated_with_declared_and_actual_durations(tmp_path):
    path = cut(wav_file(tmp_path / "song.wav"), keep=0.5)
    stats = audio.measure(path)
    assert stats.truncated
    assert stats.declared_duration_s == pytest.approx(2.0)
    assert stats.info.duration_s == pytest.approx(1.0, abs=0.01)
    row = stats.to_dict()
    assert row["truncated"] is True and row["declared_duration_s"] == pytest.approx(2.0)
    assert row["duration_s"] == pytest.approx(1.0, abs=0.01)


def test_whole_wav_is_not_truncated(tmp_path):
    stats = audio.measure(wav_file(tmp_path / "song.wav"))
    assert not stats.truncated and stats.declared_duration_s == pytest.approx(2.0)
    assert stats.to_dict()["truncated"] is False


def test_wav_missing_a_few_milliseconds_is_truncated(tmp_path):
    path = wav_file(tmp_path / "song.wav")
    path.write_bytes(path.read_bytes()[:-4 * 32])  # 32 stereo 16-bit frames: 2 ms
    assert audio.measure(path).truncated


def test_wav_whose_data_size_counts_its_header_is_not_truncated(tmp_path):
    """A writer that put the file's size less 8 in the data chunk too: 36 bytes promised
    that are not there, a fraction of a millisecond."""
    path = wav_file(tmp_path / "song.wav")
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[at + 4:at + 8] = struct.pack("<I", len(data) - 8)
    path.write_bytes(bytes(data))
    assert not audio.measure(path).truncated


def test_streamed_wav_of_unknown_size_is_not_truncated(tmp_path):
    """A WAV written to a pipe says 0xFFFFFFFF for its sizes: unknown, not a promise."""
    path = wav_file(tmp_path / "song.wav")
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[4:8] = data[at + 4:at + 8] = struct.pack("<I", 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    stats = audio.measure(path)
    assert not stats.truncated and stats.declared_duration_s is None
    assert stats.info.duration_s == pytest.approx(2.0)


def test_cut_mp3_is_truncated(tmp_path):
    path = cut(mp3_file(tmp_path / "song.mp3"), keep=0.5)
    stats = audio.measure(path)
    assert stats.truncated
    assert stats.declared_duration_s == pytest.approx(4.0, abs=0.1)
    assert stats.info.duration_s == pytest.approx(2.0, abs=0.2)


def test_whole_mp3_is_not_truncated(tmp_path):
    stats = audio.measure(mp3_file(tmp_path / "song.mp3"))
    assert not stats.truncated and stats.declared_duration_s == pytest.approx(4.0, abs=0.1)
