"""Seeded synthetic test signals for the feature tests (no files)."""

from __future__ import annotations

import numpy as np
import pytest

SAMPLE_RATE = 16000


def chirp(*, f0_hz: float, f1_hz: float, duration_s: float, sample_rate: int) -> np.ndarray:
    """Linear chirp from ``f0_hz`` to ``f1_hz``, float64, shape (time,)."""
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    rate = (f1_hz - f0_hz) / duration_s
    return np.sin(2 * np.pi * (f0_hz * t + 0.5 * rate * t**2))


@pytest.fixture
def mixture() -> np.ndarray:
    """1.5 s at 16 kHz: 440 Hz sine + 100 Hz..6 kHz chirp + white noise, float64 (time,).

    The noise keeps every mel band well above the float32 rounding floor.
    """
    rng = np.random.default_rng(1234)
    n = int(1.5 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    sweep = chirp(f0_hz=100.0, f1_hz=6000.0, duration_s=1.5, sample_rate=SAMPLE_RATE)
    return 0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * sweep + 0.05 * rng.standard_normal(n)


@pytest.fixture
def sine_in_silence() -> np.ndarray:
    """0.25 s silence, 1 s of a 440 Hz sine, 0.2 s silence at 16 kHz, float64 (time,).

    Exercises the amin floor, the top_db clip and all-zero chroma frames.
    """
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    return np.concatenate([np.zeros(4000), tone, np.zeros(3200)])
