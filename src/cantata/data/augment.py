"""Signal-level pieces of on-the-fly mixing: lengths, channels, pitch/tempo, room, level.

Arrays are float32, shape (channels, time), at one sample rate.
"""

from __future__ import annotations

import numpy as np
import pedalboard
from scipy import signal

#: Below this energy per sample a stem counts as silent (-120 dBFS): it is never rescaled.
SILENT_POWER = 1e-12


def fit_length(x: np.ndarray, n_samples: int) -> np.ndarray:
    """Trim or zero-pad ``x`` at the end to ``n_samples``. (C, T) -> (C, n_samples)."""
    if x.shape[1] >= n_samples:
        return x[:, :n_samples]
    return np.pad(x, ((0, 0), (0, n_samples - x.shape[1])))


def to_channels(x: np.ndarray, n_channels: int) -> np.ndarray:
    """Mono -> copies, stereo kept, anything else averaged (then copied). (C, T) -> (n, T)."""
    if x.shape[0] == n_channels:
        return x
    mono = x.mean(axis=0, keepdims=True)
    return np.repeat(mono, n_channels, axis=0)


def pitch_tempo(x: np.ndarray, sample_rate: int, *, semitones: float, tempo: float) -> np.ndarray:
    """Shift pitch by ``semitones`` and play ``tempo`` times faster (Rubber Band).

    The output is about ``T / tempo`` samples long: read ``tempo`` times the wanted
    length to get the wanted length back. (C, T) -> (C, ~T / tempo).
    """
    out = pedalboard.time_stretch(np.ascontiguousarray(x, dtype=np.float32), sample_rate,
                                  stretch_factor=tempo, pitch_shift_in_semitones=semitones,
                                  high_quality=False)
    return np.asarray(out, dtype=np.float32)


def room_response(rng: np.random.Generator, sample_rate: int, n_channels: int, *,
                  rt60_s: float, drr_db: float, predelay_s: float,
                  damping_hz: float) -> np.ndarray:
    """A synthetic room's impulse response: the direct sound, then a reverberant tail.

    The tail starts ``predelay_s`` after the direct sound: Gaussian noise under an
    exponential decay of 60 dB in ``rt60_s``, low-passed at ``damping_hz`` (one pole: air
    and walls absorb the highs), its energy ``drr_db`` below the direct sound's. Each
    channel gets its own noise, so a stereo tail is decorrelated as in a real room.

    Shape: -> (n_channels, length) float32, length ``predelay_s + rt60_s`` seconds.
    """
    start = max(1, round(predelay_s * sample_rate))
    n_tail = max(1, round(rt60_s * sample_rate))
    decay = np.exp(-6.9 * np.arange(n_tail) / n_tail)  # ln(1000): -60 dB at rt60
    pole = float(np.exp(-2 * np.pi * min(damping_hz, 0.45 * sample_rate) / sample_rate))
    tail = signal.lfilter([1 - pole], [1, -pole], rng.standard_normal((n_channels, n_tail)),
                          axis=1) * decay
    tail *= 10 ** (-drr_db / 20) / np.sqrt(np.mean(np.sum(tail**2, axis=1)))
    response = np.zeros((n_channels, start + n_tail), np.float32)
    response[:, 0] = 1.0
    response[:, start:] = tail
    return response


def reverberate(x: np.ndarray, response: np.ndarray) -> np.ndarray:
    """``x`` played through ``response`` (one per channel), cut to ``x``'s length.

    Shape: x (C, T), response (C, L) -> (C, T) float32.
    """
    wet = signal.fftconvolve(x, response, axes=1)[:, : x.shape[1]]
    return np.ascontiguousarray(wet, dtype=np.float32)


def power(x: np.ndarray) -> float:
    """Mean energy per sample over all channels."""
    return float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0


def snr_gain(vocals: np.ndarray, accompaniment: np.ndarray, snr_db: float) -> float:
    """Factor for ``vocals`` that makes 10 log10(E_vocals / E_accompaniment) equal ``snr_db``.

    1.0 when either stem is silent (nothing to balance).
    """
    vocal_power, backing_power = power(vocals), power(accompaniment)
    if vocal_power < SILENT_POWER or backing_power < SILENT_POWER:
        return 1.0
    return float(np.sqrt(backing_power / vocal_power * 10 ** (snr_db / 10)))


def peak_gain(x: np.ndarray, peak_dbfs: float) -> float:
    """Factor that puts the peak of ``x`` at ``peak_dbfs``; 1.0 for silence."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak**2 < SILENT_POWER:
        return 1.0
    return 10 ** (peak_dbfs / 20) / peak
