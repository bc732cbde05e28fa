"""Streamed files whose header does not say their length are decoded by FFmpeg (issue 35.5)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from cantata import audio
from cantata.testing import sine

#: STREAMINFO's sample-rate/channels/bits/total-samples field and its MD5, byte offsets in a
#: file that starts with "fLaC" and the STREAMINFO block header
TOTAL_SAMPLES_AT, MD5_AT, MD5_END = 18, 26, 42


def streamed_flac_from_ffmpeg(path):
    """``ffmpeg -f lavfi -i sine=d=1 -f flac - > p.flac``: a pipe cannot be seeked back to
    write the total sample count, so STREAMINFO says 0 (unknown)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    with open(path, "wb") as out:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1",
                        "-f", "flac", "-"], stdout=out, check=True)
    return path


def streamed_flac_synthesised(path, wav):
    """A FLAC written by libsndfile with its total-samples field and MD5 zeroed."""
    sf.write(str(path), wav.samples.T, wav.sample_rate, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO comes first
    field = int.from_bytes(data[TOTAL_SAMPLES_AT:MD5_AT], "big")
    data[TOTAL_SAMPLES_AT:MD5_AT] = (field & ~((1 << 36) - 1)).to_bytes(8, "big")
    data[MD5_AT:MD5_END] = bytes(16)
    path.write_bytes(bytes(data))
    return path


def test_ffmpeg_streamed_flac_loads_with_its_true_length(tmp_path):
    path = streamed_flac_from_ffmpeg(tmp_path / "p.flac")
    meta = audio.info(path)
    assert (meta.sample_rate, meta.n_channels) == (44100, 1)
    assert meta.duration_s == pytest.approx(1.0)
    got = audio.load(path)
    assert got.n_samples == 44100
    rms = float(np.sqrt(np.mean(got.samples**2)))
    assert rms == pytest.approx(1 / 8 / np.sqrt(2), rel=0.05)  # lavfi's sine: amplitude 1/8
    assert audio.measure(path).info.duration_s == pytest.approx(1.0)


def test_synthesised_streamed_flac_decodes_exactly(tmp_path):
    wav = sine(440, duration_s=1.5, sample_rate=22050, n_channels=2, amplitude=0.5)
    path = streamed_flac_synthesised(tmp_path / "s.flac", wav)
    assert sf.info(str(path)).frames > 1 << 62  # libsndfile: "unknown"
    meta = audio.info(path)
    assert (meta.sample_rate, meta.n_channels) == (22050, 2)
    assert meta.duration_s == pytest.approx(1.5)
    got = audio.load(path)
    np.testing.assert_allclose(got.samples, wav.samples, atol=1 / 32768 + 1e-6)
    blocks = list(audio.stream(path, block_s=0.4))
    assert sum(b.n_samples for b in blocks) == wav.n_samples
    part = audio.load(path, offset_s=0.5, duration_s=0.5)
    np.testing.assert_allclose(part.samples, got.samples[:, 11025:22050], atol=1e-6)
