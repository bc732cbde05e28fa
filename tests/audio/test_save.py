"""cantata.audio.save: formats, atomic writes, no silent overwrite, clear errors."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from cantata import audio
from cantata.errors import AudioSaveError
from cantata.testing import noise
from cantata.types import Waveform


@pytest.mark.parametrize(
    ("name", "subtype", "expected_subtype", "atol"),
    [("x.wav", "PCM_16", "PCM_16", 1 / 32768), ("x.wav", "24", "PCM_24", 1 / 2**23),
     ("x.wav", "32f", "FLOAT", 0.0), ("x.flac", "16", "PCM_16", 1 / 32768),
     ("x.flac", "PCM_24", "PCM_24", 1 / 2**23)],
)
def test_roundtrip(tmp_path, name, subtype, expected_subtype, atol):
    wav = noise(duration_s=0.5, sample_rate=44100, n_channels=2, seed=2)
    path = audio.save(tmp_path / name, wav, subtype=subtype)
    assert sf.info(str(path)).subtype == expected_subtype
    got = audio.load(path)
    assert got.sample_rate == 44100
    np.testing.assert_allclose(got.samples, wav.samples, atol=atol + 1e-7)


def test_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(b"precious")
    with pytest.raises(AudioSaveError, match="file exists"):
        audio.save(path, noise(duration_s=0.1))
    assert path.read_bytes() == b"precious"
    audio.save(path, noise(duration_s=0.1), overwrite=True)
    assert audio.load(path).n_samples == 1600


def test_failed_write_leaves_no_file_and_no_debris(tmp_path, monkeypatch):
    def broken_write(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf, "write", broken_write)
    with pytest.raises(AudioSaveError, match="write failed"):
        audio.save(tmp_path / "x.wav", noise(duration_s=0.1))
    assert list(tmp_path.iterdir()) == []


def test_clips_integer_formats_and_keeps_float(tmp_path):
    loud = Waveform(np.array([[0.5, 1.5, -2.0]]), 8000)
    np.testing.assert_allclose(audio.load(audio.save(tmp_path / "i.wav", loud)).samples,
                               [[0.5, 32767 / 32768, -1.0]], atol=1 / 32768)
    np.testing.assert_array_equal(
        audio.load(audio.save(tmp_path / "f.wav", loud, subtype="FLOAT")).samples, loud.samples)


@pytest.mark.parametrize(("name", "subtype", "problem"),
                         [("x.mp3", "PCM_16", "unsupported output format"),
                          ("x.flac", "FLOAT", "cannot hold FLOAT"),
                          ("x.wav", "PCM_12", "cannot hold PCM_12")])
def test_bad_format_requests(tmp_path, name, subtype, problem):
    with pytest.raises(AudioSaveError, match=problem):
        audio.save(tmp_path / name, noise(duration_s=0.1), subtype=subtype)


def test_rejects_non_finite_samples(tmp_path):
    with pytest.raises(AudioSaveError, match="NaN or Inf"):
        audio.save(tmp_path / "x.wav", Waveform(np.array([[0.0, np.nan]]), 8000))
    assert not (tmp_path / "x.wav").exists()


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(AudioSaveError, match="cannot write in"):
        audio.save(tmp_path / "no" / "such" / "x.wav", noise(duration_s=0.1))


def test_saved_file_gets_the_usual_permissions(tmp_path):
    """Atomic writes go through a temp file; the result must not stay private (0o600)."""
    from cantata.files import write_text_atomic

    umask = os.umask(0o022)
    os.umask(umask)
    wav_path, text_path = tmp_path / "x.wav", tmp_path / "x.json"
    audio.save(wav_path, Waveform(np.zeros((1, 100), np.float32), 8000))
    write_text_atomic(text_path, "{}")
    for path in (wav_path, text_path):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask
