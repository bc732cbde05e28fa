"""Tiny generated recordings for the assess tests."""

from __future__ import annotations

import numpy as np
import pytest


def sine(freq: float, dbfs: float, seconds: float, rate: int = 48000, channels: int = 2,
         phase: float = 0.0) -> np.ndarray:
    """A sine of peak ``dbfs`` in every channel, (channels, time) float32."""
    t = np.arange(round(seconds * rate)) / rate
    x = 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t + phase)
    return np.tile(x, (channels, 1)).astype(np.float32)


def noise(seconds: float, rate: int = 44100, channels: int = 2, seed: int = 0,
          cutoff_hz: float | None = None, level: float = 0.1) -> np.ndarray:
    """White noise, optionally brick-wall low-passed at ``cutoff_hz`` (an encoder's shelf),
    then rounded to 16 bits."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((channels, round(seconds * rate))) * level
    if cutoff_hz is not None:
        spectrum = np.fft.rfft(x, axis=1)
        spectrum[:, np.fft.rfftfreq(x.shape[1], 1 / rate) > cutoff_hz] = 0
        x = np.fft.irfft(spectrum, n=x.shape[1], axis=1)
    return (np.round(np.clip(x, -1, 1) * 32767) / 32768).astype(np.float32)


@pytest.fixture
def music_like():
    """Full-band noise with a gentle tilt (no shelf), 44.1 kHz stereo, 3 s."""
    x = noise(3.0)
    return x
