"""The codec frame grid: MDCT coefficients a lossy encoder zeroed, found again."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from cantata.assess import Assessor
from cantata.assess.mdct_grid import HOP, find_grid, mdct, windows

RATE = 44100


def _synthesize(coeffs: np.ndarray, window: np.ndarray, offset: int, length: int) -> np.ndarray:
    """Overlap-add the inverse MDCT of ``coeffs`` (frames, HOP) on a grid from ``offset``."""
    n, k = np.arange(2 * HOP), np.arange(HOP)
    basis = np.cos(np.pi / HOP * (n[:, None] + HOP / 2 + 0.5) * (k[None] + 0.5))
    out = np.zeros(offset + (len(coeffs) + 1) * HOP)
    for i, frame in enumerate(coeffs):
        start = offset + i * HOP
        out[start:start + 2 * HOP] += window * (basis @ frame) * (2 / HOP)
    return out[HOP:HOP + length]  # where every sample has both overlapping frames


def _coded(offset: int, zero_share: float, seed: int = 0) -> np.ndarray:
    """4 s coded on a KBD grid: random coefficients, ``zero_share`` of those above 4 kHz
    zeroed, rounded to 16 bits; the grid lies at ``offset`` from the start."""
    rng = np.random.default_rng(seed)
    frames = 4 * RATE // HOP + 3
    coeffs = rng.standard_normal((frames, HOP)) / (1 + np.arange(HOP) / 50)
    high = np.arange(HOP) >= int(4000 / (RATE / 2) * HOP)
    coeffs[:, high] *= rng.random((frames, int(high.sum()))) >= zero_share
    x = _synthesize(coeffs, windows()["aac"][0], offset, 4 * RATE)
    return np.round(0.3 * x / np.abs(x).max() * 32767)[None] / 32768


def test_the_mdct_on_the_codec_grid_gives_the_coefficients_back():
    rng = np.random.default_rng(1)
    coeffs = rng.standard_normal((6, HOP))
    window = windows()["vorbis"][0]
    x = _synthesize(coeffs, window, 0, 5 * HOP)  # starts one hop into frame 0
    again = mdct(np.stack([x[i * HOP:i * HOP + 2 * HOP] for i in range(3)]), window)
    np.testing.assert_allclose(again, coeffs[1:4], atol=1e-4)  # single precision


def test_a_grid_of_zeroed_coefficients_is_found_at_its_offset():
    grid = find_grid(_coded(offset=300, zero_share=0.3), RATE)
    assert grid is not None and grid.found and grid.codec == "aac" and grid.offset == 300
    assert grid.zero_share > 0.2 > grid.typical_share
    untouched = find_grid(_coded(offset=300, zero_share=0.0), RATE)
    assert untouched is not None and not untouched.found
    assert find_grid(np.zeros((1, 1000)), RATE) is None  # too short to tell
    assert find_grid(np.zeros((1, RATE)), 8000) is None  # nothing above 4 kHz


@pytest.mark.parametrize("tone", ["440 Hz", "1 kHz", "two", "sweep", "rate / 2048 x 120"])
def test_a_pure_tone_is_no_grid(tone):
    """A tone's coefficients vanish together at offsets set by its phase: in a frame here
    and there (which two frames cannot tell from a codec's grid), or, at a multiple of the
    rate / 2048, in every frame (the recording repeats itself every frame: not tested)."""
    from scipy.signal import chirp

    t = np.arange(5 * RATE) / RATE
    x = {"440 Hz": np.sin(2 * np.pi * 440 * t), "1 kHz": np.sin(2 * np.pi * 1000 * t),
         "two": np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 3000 * t),
         "sweep": chirp(t, 50, 5, 20000),
         "rate / 2048 x 120": np.sin(2 * np.pi * 120 * RATE / 2048 * t)}[tone]
    grid = find_grid((np.round(0.4 * x / np.abs(x).max() * 32767) / 32768)[None], RATE)
    assert grid is None or not grid.found


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg command")
@pytest.mark.parametrize(("encoder", "bitrate", "suffix", "codec"),
                         [("aac", "256k", "m4a", "aac"), ("libvorbis", "320k", "ogg", "vorbis")])
def test_a_high_bitrate_transcode_without_a_shelf_is_found_by_its_grid(tmp_path, encoder,
                                                                       bitrate, suffix, codec):
    rng = np.random.default_rng(0)
    t = np.arange(3 * RATE) / RATE
    x = sum(0.1 / h ** 1.5 * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3, (2, 1)))
            for f0 in (220, 330) for h in range(1, 60) if f0 * h < 20000)
    x = 0.5 * (x + 0.002 * rng.standard_normal(x.shape)) / np.abs(x).max()
    wav, coded, flac = tmp_path / "a.wav", tmp_path / f"a.{suffix}", tmp_path / "a.flac"
    sf.write(wav, x.T, RATE, subtype="PCM_16")
    run = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i"]
    subprocess.run([*run, str(wav), "-c:a", encoder, "-b:a", bitrate, str(coded)], check=True)
    subprocess.run([*run, str(coded), "-sample_fmt", "s16", str(flac)], check=True)
    assessor = Assessor()
    original = assessor.assess(wav).to_dict("a.wav")["lossy"]
    assert not original["transcoded"] and original["evidence"] is None
    found = assessor.assess(flac).to_dict("a.flac")["lossy"]
    assert found["transcoded"] and found["evidence"] == "mdct_grid"
    assert found["codec"] == codec and found["bitrate_class"] == "192k+"


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg command")
def test_a_codec_low_pass_where_a_resampler_cuts_is_a_transcode_not_upsampling(tmp_path):
    """AAC at 128k cuts mono 48 kHz audio near 22 kHz, a 44.1 kHz resampler's edge: the
    grid says which it was."""
    rate = 48000
    t = np.arange(3 * rate) / rate
    rng = np.random.default_rng(0)
    x = sum(0.1 / h ** 1.5 * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3))
            for f0 in (220, 330) for h in range(1, 107) if f0 * h < 23500)
    x = 0.5 * (x + 0.002 * rng.standard_normal(len(t))) / np.abs(x).max()
    wav, coded, flac = tmp_path / "a.wav", tmp_path / "a.m4a", tmp_path / "a.flac"
    sf.write(wav, x, rate, subtype="PCM_16")
    run = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i"]
    subprocess.run([*run, str(wav), "-c:a", "aac", "-b:a", "128k", str(coded)], check=True)
    subprocess.run([*run, str(coded), "-sample_fmt", "s16", str(flac)], check=True)
    report = Assessor().assess(flac).to_dict("a.flac")
    assert 20500 < report["bandwidth_hz"] < 22100  # where a 44.1 kHz resampler would cut
    assert report["lossy"]["transcoded"] and report["lossy"]["codec"] == "aac"
    assert report["lossy"]["evidence"] == "shelf+mdct_grid" and not report["upsampled"]


def test_an_offset_where_few_coefficients_count_is_weak_evidence():
    """A 9-coefficient offset with one zero is no 11 % share against 400-coefficient ones."""
    from cantata.assess.mdct_grid import _peak

    rng = np.random.default_rng(0)
    counted = rng.integers(380, 420, 64)
    zero = rng.binomial(counted, 0.004)
    counted[10], zero[10] = 9, 1
    grid = _peak("aac", np.stack([zero, counted])[:, :, None], np.arange(64), 0)
    assert grid.offset != 10 or grid.zero_share < 0.01
