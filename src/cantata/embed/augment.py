"""Augmentations of cached embedder features, applied to training pairs without decoding.

- :func:`shift_level`: the same audio louder or softer;
- :func:`degrade_logmel`: the same audio played in a room and re-recorded by a phone or
  laptop microphone (reverberation, a band-limited microphone, background noise), which is
  what query by example hears. It works on log-mel power, band by band: the room smears
  each band's power over the following frames with an exponential decay, the microphone
  multiplies each band by a digital Butterworth response at the band's centre frequency,
  and the noise adds power with a spectral tilt at a signal-to-noise ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from cantata.errors import ConfigError
from cantata.features import FeatureConfig
from cantata.features.mel import mel_edges_hz


@dataclass(frozen=True)
class Degradation:
    """Ranges a simulated re-recording is drawn from (uniformly).

    Attributes:
        snr_db: signal-to-noise ratio of the added noise, in dB.
        lowpass_hz: the microphone's upper cut-off (4th-order Butterworth), in Hz.
        highpass_hz: its lower cut-off, in Hz (0: none).
        decay_s: the room's amplitude decay time constant, in s (0: dry).
        wet: level of the reverberant tail against the direct sound, in [0, 1].
        noise_tilt: noise power falls as frequency ** -tilt (0 white, 1 pink, 2 red).
    """

    snr_db: tuple[float, float] = (0.0, 20.0)
    lowpass_hz: tuple[float, float] = (2500.0, 7000.0)
    highpass_hz: tuple[float, float] = (0.0, 300.0)
    decay_s: tuple[float, float] = (0.0, 0.1)
    wet: tuple[float, float] = (0.2, 1.0)
    noise_tilt: tuple[float, float] = (0.0, 2.0)


def shift_level(x: np.ndarray, gain_db: float, features: FeatureConfig | None) -> np.ndarray:
    """Features of the same audio ``gain_db`` louder (float32; log-mel and MFCC only)."""
    kind = features.kind if features is not None else "logmel"
    if kind == "logmel":
        return x + np.float32(gain_db)
    if kind == "mfcc":  # orthonormal DCT-II: a constant c on every band adds c * sqrt(n) to c0
        out = x.copy()
        out[0] += np.float32(gain_db * np.sqrt(features.n_mels))  # type: ignore[union-attr]
        return out
    return x


def check_degradable(features: FeatureConfig) -> None:
    """Raise ConfigError unless ``features`` are log-mel (the only kind degraded)."""
    if features.kind != "logmel":
        raise ConfigError(f"query degradation works on logmel features, not {features.kind!r} "
                          "(leave it out for this feature)")


def band_centres_hz(features: FeatureConfig) -> np.ndarray:
    """(n_mels,) centre frequency of every mel band, in Hz."""
    return mel_edges_hz(features.n_mels, features.f_min_hz, features.effective_f_max_hz)[1:-1]


def degrade_logmel(x: np.ndarray, features: FeatureConfig, rng: np.random.Generator,
                   ranges: Degradation = Degradation()) -> np.ndarray:
    """Log-mel features of the audio re-recorded in a room by a phone.

    Args:
        x: (n_mels, frames) log-mel in dB as :class:`~cantata.features.FeatureExtractor`
            computes it for ``features``.
        features: their config (``kind="logmel"``).
        rng: draws the room, the microphone and the noise.
        ranges: what they are drawn from.

    Returns:
        float32 (n_mels, frames), on the same dB scale (``amin`` floor, ``top_db`` clip).
    """
    check_degradable(features)
    u = rng.uniform
    power = 10.0 ** (x.astype(np.float64) / 10.0)
    hop_s = features.hop_length / features.sample_rate
    tau = u(*ranges.decay_s) / 2  # power decays twice as fast as amplitude
    if tau > hop_s / 4:
        kernel = np.exp(-np.arange(int(np.ceil(5 * tau / hop_s)) + 1) * hop_s / tau)
        kernel[1:] *= u(*ranges.wet)
        power = signal.lfilter(kernel / kernel.sum(), [1.0], power, axis=1)
    centres = band_centres_hz(features)
    warp = _warped(centres, features.sample_rate)
    gain = 1.0 / (1.0 + (warp / _warped(u(*ranges.lowpass_hz), features.sample_rate)) ** 8)
    highpass = u(*ranges.highpass_hz)
    if highpass > 0:
        gain /= 1.0 + (_warped(highpass, features.sample_rate) / np.maximum(warp, 1e-9)) ** 8
    power *= gain[:, None]
    tilt = np.maximum(centres, 100.0) ** -u(*ranges.noise_tilt)
    noise = tilt / tilt.mean() * power.mean() / 10.0 ** (u(*ranges.snr_db) / 10.0)
    power += noise[:, None] * rng.gamma(8.0, 1.0 / 8.0, size=power.shape)
    db = 10.0 * np.log10(np.maximum(power, features.amin)) - 10.0 * np.log10(
        max(features.amin, 1.0))
    if features.top_db is not None:
        db = np.maximum(db, db.max() - features.top_db)
    return db.astype(np.float32)


def _warped(freq_hz: np.ndarray | float, rate: int) -> np.ndarray:
    """Frequencies on the bilinear transform's axis, tan(pi f / rate): there a digital
    Butterworth filter's power response is the analogue one, 1 / (1 + (w / w_c) ** 2n)."""
    return np.tan(np.pi * np.minimum(np.asarray(freq_hz, np.float64), 0.4999 * rate) / rate)
