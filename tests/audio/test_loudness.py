"""Loudness against the BS.1770 definition, EBU reference signals and pyloudnorm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cantata import audio
from cantata.audio.loudness import LoudnessMeter, k_weighting_sos
from cantata.testing import noise, sine
from cantata.types import Waveform

LU_TOL = 0.1  # EBU Tech 3341 allows +-0.1 LU on its reference signals


def test_k_weighting_reproduces_the_bs1770_table_at_48k():
    expected = [[1.53512485958697, -2.69169618940638, 1.19839281085285,
                 1.0, -1.69065929318241, 0.73248077421585],
                [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621]]
    np.testing.assert_allclose(k_weighting_sos(48000), expected, atol=1e-12)


@pytest.mark.parametrize("sample_rate", [8000, 16000, 44100, 48000, 96000])
def test_stereo_1khz_sine_at_minus_23_dbfs_reads_minus_23_lufs(sample_rate):
    """EBU Tech 3341 test 1/2: a stereo 1 kHz sine at -23 dBFS peak is -23.0 LUFS."""
    tone = sine(1000, duration_s=10, sample_rate=sample_rate, n_channels=2,
                amplitude=10 ** (-23 / 20))
    assert audio.integrated_loudness(tone) == pytest.approx(-23.0, abs=LU_TOL)


def test_relative_gate_ignores_quiet_passages():
    """EBU Tech 3341 test 3 shape: -36 / -23 / -36 dBFS tone reads -23 LUFS."""
    rate = 48000
    parts = [sine(1000, duration_s=d, sample_rate=rate, n_channels=2, amplitude=10 ** (a / 20))
             for d, a in [(10, -36), (60, -23), (10, -36)]]
    tone = Waveform(np.concatenate([p.samples for p in parts], axis=1), rate)
    assert audio.integrated_loudness(tone) == pytest.approx(-23.0, abs=LU_TOL)


def test_matches_pyloudnorm_on_noise():
    pyln = pytest.importorskip("pyloudnorm")
    wav = noise(duration_s=8, sample_rate=48000, n_channels=2, amplitude=0.1, seed=5)
    reference = pyln.Meter(48000).integrated_loudness(wav.samples.T.astype(np.float64))
    assert audio.integrated_loudness(wav) == pytest.approx(reference, abs=LU_TOL)


def test_blockwise_equals_whole():
    wav = noise(duration_s=5, sample_rate=44100, n_channels=2, seed=6)
    meter = LoudnessMeter(44100, 2)
    for start in range(0, wav.n_samples, 12345):
        meter.push(Waveform(wav.samples[:, start:start + 12345], 44100))
    assert meter.integrated_lufs() == pytest.approx(audio.integrated_loudness(wav), abs=1e-9)
    assert meter.peak_dbfs() == pytest.approx(20 * math.log10(np.abs(wav.samples).max()))


def test_silence_and_very_short_audio_are_minus_infinity():
    assert audio.integrated_loudness(Waveform(np.zeros((2, 48000)), 48000)) == -math.inf
    assert audio.integrated_loudness(noise(duration_s=0.3, sample_rate=48000)) == -math.inf
