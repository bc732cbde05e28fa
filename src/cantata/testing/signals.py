"""Deterministic test signals, shape (channels, time), float32."""

from __future__ import annotations

import numpy as np

from cantata.types import Waveform


def sine(
    freq_hz: float = 440.0, *, duration_s: float = 1.0, sample_rate: int = 16000,
    n_channels: int = 1, amplitude: float = 0.5,
) -> Waveform:
    """A sine tone, the same on every channel."""
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    x = amplitude * np.sin(2 * np.pi * freq_hz * t)
    return Waveform(np.tile(x, (n_channels, 1)), sample_rate)


def chirp(
    *, f0_hz: float = 100.0, f1_hz: float = 4000.0, duration_s: float = 1.0,
    sample_rate: int = 16000, amplitude: float = 0.5,
) -> Waveform:
    """A mono exponential sweep from ``f0_hz`` to ``f1_hz``."""
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    k = np.log(f1_hz / f0_hz) / duration_s
    phase = 2 * np.pi * f0_hz * (np.exp(k * t) - 1) / k
    return Waveform(amplitude * np.sin(phase), sample_rate)


def noise(
    *, duration_s: float = 1.0, sample_rate: int = 16000, n_channels: int = 1,
    amplitude: float = 0.1, seed: int = 0,
) -> Waveform:
    """Gaussian white noise with standard deviation ``amplitude``, seeded."""
    rng = np.random.default_rng(seed)
    x = amplitude * rng.standard_normal((n_channels, round(duration_s * sample_rate)))
    return Waveform(np.clip(x, -1, 1), sample_rate)


def music_like(
    *, duration_s: float = 6.0, sample_rate: int = 44100, n_channels: int = 1,
    peak: float = 0.5, noise_db: float = -50.0, seed: int = 0,
) -> np.ndarray:
    """Clean music-like audio, (channels, time) float32 peaking at ``peak``: a 55 Hz bass,
    a chord and high partials with vibrato, a slow tremolo, over noise ``noise_db`` below
    full scale (before the peak is set), seeded."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(duration_s * sample_rate)) / sample_rate
    out = []
    for c in range(n_channels):
        x = 0.35 * np.sin(2 * np.pi * 55 * t + c)
        for f, a in ((220, 0.2), (277, 0.15), (330, 0.12), (880, 0.05), (3520, 0.02)):
            vibrato = 0.004 * f / 5 * np.sin(2 * np.pi * 5 * t + f)
            x += a * np.sin(2 * np.pi * f * t + vibrato + rng.uniform(0, 6))
        x *= 0.8 + 0.2 * np.sin(2 * np.pi * 0.3 * t)
        x += 10 ** (noise_db / 20) * rng.standard_normal(len(t))
        out.append(peak * x / np.max(np.abs(x)))
    return np.asarray(out, np.float32)
