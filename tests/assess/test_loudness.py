"""The loudness meter against BS.1770-4 / EBU Tech 3341 and 3342 reference signals."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.assess.loudness import measure_loudness, true_peak

from .conftest import sine


def test_1khz_sine_at_minus_23_dbfs_reads_minus_23_lufs():
    # EBU Tech 3341 test 1: stereo 1 kHz sine at -23 dBFS -> -23.0 LUFS (+-0.1)
    loud = measure_loudness(sine(1000, -23, 5), 48000)
    assert loud.integrated_lufs == pytest.approx(-23.0, abs=0.1)
    assert loud.sample_peak_dbfs == pytest.approx(-23.0, abs=0.01)


def test_gating_ignores_quiet_parts():
    # Tech 3341 test 3: 10 s at -36, 60 s at -23, 10 s at -36 dBFS -> -23.0 LUFS
    rate = 44100
    x = np.concatenate([sine(1000, -36, 10, rate), sine(1000, -23, 60, rate),
                        sine(1000, -36, 10, rate)], axis=1)
    assert measure_loudness(x, rate).integrated_lufs == pytest.approx(-23.0, abs=0.1)


def test_loudness_range_of_two_levels_is_their_difference():
    # Tech 3342 test 1: 20 s at -20 dBFS then 20 s at -30 dBFS -> LRA 10 LU (+-1)
    x = np.concatenate([sine(1000, -20, 20), sine(1000, -30, 20)], axis=1)
    assert measure_loudness(x, 48000).range_lu == pytest.approx(10.0, abs=1.0)


def test_true_peak_finds_the_peak_between_samples():
    # a quarter-rate sine sampled 45 degrees off its crests: samples at -3 dB of its peak
    x = sine(12000, -6, 1, phase=np.pi / 4)
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-9.03, abs=0.05)
    assert 20 * np.log10(true_peak(x, 48000)) == pytest.approx(-6.0, abs=0.2)


def test_silence_has_no_loudness():
    loud = measure_loudness(np.zeros((2, 48000), np.float32), 48000)
    assert loud.integrated_lufs == -np.inf and loud.true_peak_dbtp == -np.inf
