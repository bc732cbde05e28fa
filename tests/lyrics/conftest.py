"""Tiny sung-like audio for the lyrics tests: harmonic notes with known onsets."""

from __future__ import annotations

import numpy as np
import pytest

RATE = 16000

def notes(onsets: list[float], *, length_s: float = 0.3, duration_s: float = 4.0,
          rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Mono samples: a harmonic note (5 partials, a new pitch each) at every onset, each
    ``length_s`` long with 20 ms fades, over faint noise."""
    rng = np.random.default_rng(seed)
    y = 1e-4 * rng.standard_normal(round(duration_s * rate))
    for k, onset in enumerate(onsets):
        n = round(length_s * rate)
        t = np.arange(n) / rate
        f0 = 220.0 * 2 ** (((k * 5) % 12) / 12)
        note = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6))
        fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
        a = round(onset * rate)
        y[a:a + n] += 0.3 * (note * fade)[: y.size - a]
    return y.astype(np.float32)


@pytest.fixture
def sung():
    """``notes(onsets, ...)``: mono samples of notes at the onsets (see :func:`notes`)."""
    return notes
