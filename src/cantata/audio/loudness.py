"""Integrated loudness (ITU-R BS.1770-4 / EBU R128) and peak, measured block by block.

The meter keeps only the filter state and one number per 100 ms, so it measures
a file of any length in constant memory (feed it :func:`cantata.audio.stream`).
"""

from __future__ import annotations

import math

import numpy as np

from cantata.types import Waveform

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
STEP_S = 0.1  # gating blocks are 400 ms long and overlap by 75 %: 4 steps of 100 ms
STEPS_PER_BLOCK = 4


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """The two K-weighting biquads (high shelf, then high pass) at any sample rate.

    Coefficients follow libebur128's bilinear design, which reproduces the
    BS.1770 table exactly at 48 kHz. Returns second-order sections, shape (2, 6).
    """
    k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    q, vh = 0.7071752369554196, 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    k = math.tan(math.pi * 38.13547087602444 / sample_rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


def channel_weights(n_channels: int) -> np.ndarray:
    """BS.1770 channel weights: surrounds count 1.41, LFE 0, the rest 1.

    Layouts: 5 channels = L R C Ls Rs; 6 channels = L R C LFE Ls Rs (5.1).
    """
    if n_channels == 5:
        return np.array([1.0, 1.0, 1.0, 1.41, 1.41])
    if n_channels == 6:
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(n_channels)


class LoudnessMeter:
    """Streaming integrated-loudness and sample-peak meter.

    Example:
        >>> meter = LoudnessMeter(48000, 2)
        >>> for block in stream("song.flac", block_s=10):   # doctest: +SKIP
        ...     meter.push(block)
        >>> meter.integrated_lufs()                          # doctest: +SKIP
    """

    def __init__(self, sample_rate: int, n_channels: int) -> None:
        self.sample_rate, self.n_channels = sample_rate, n_channels
        self._sos = k_weighting_sos(sample_rate)
        self._zi = np.zeros((n_channels, 2, 2))  # (channels, sections, 2)
        self._weights = channel_weights(n_channels)
        self._step = round(STEP_S * sample_rate)
        self._carry = np.zeros((n_channels, 0))  # filtered samples of an unfinished step
        self._step_energy: list[float] = []  # weighted sum of squares per 100 ms step
        self._peak = 0.0

    def push(self, block: Waveform) -> None:
        """Feed the next block, shape (channels, time), at the meter's rate."""
        x = block.samples.astype(np.float64)
        if x.shape[1]:
            self._peak = max(self._peak, float(np.abs(x).max()))
        from scipy.signal import sosfilt  # lazy: scipy.signal costs ~80 MB RSS on import

        y = np.empty_like(x)
        for ch in range(self.n_channels):
            y[ch], self._zi[ch] = sosfilt(self._sos, x[ch], zi=self._zi[ch])
        y = np.concatenate([self._carry, y], axis=1)
        n_steps = y.shape[1] // self._step
        squares = (y[:, : n_steps * self._step] ** 2).reshape(self.n_channels, n_steps, self._step)
        self._step_energy.extend((self._weights @ squares.sum(axis=2)).tolist())
        self._carry = y[:, n_steps * self._step :]

    def block_loudness_lufs(self) -> np.ndarray:
        """Loudness of every 400 ms gating block (hop 100 ms), shape (blocks,)."""
        steps = np.asarray(self._step_energy)
        if len(steps) < STEPS_PER_BLOCK:
            return np.zeros(0)
        window = np.convolve(steps, np.ones(STEPS_PER_BLOCK), mode="valid")
        mean_square = window / (STEPS_PER_BLOCK * self._step)
        with np.errstate(divide="ignore"):
            return -0.691 + 10 * np.log10(mean_square)

    def integrated_lufs(self) -> float:
        """Gated integrated loudness in LUFS; -inf for silence or audio under 400 ms."""
        blocks = self.block_loudness_lufs()
        gated = blocks[blocks > ABSOLUTE_GATE_LUFS]
        if not len(gated):
            return -math.inf
        relative = _mean_loudness(gated) + RELATIVE_GATE_LU
        return _mean_loudness(gated[gated > relative])

    def peak_dbfs(self) -> float:
        """Sample peak in dBFS; -inf for digital silence."""
        return 20 * math.log10(self._peak) if self._peak > 0 else -math.inf


def _mean_loudness(block_lufs: np.ndarray) -> float:
    """Loudness of the mean power of some blocks."""
    return float(10 * np.log10(np.mean(10 ** ((block_lufs + 0.691) / 10))) - 0.691)


def integrated_loudness(wav: Waveform) -> float:
    """Integrated loudness of a whole waveform, in LUFS (see :class:`LoudnessMeter`)."""
    meter = LoudnessMeter(wav.sample_rate, wav.n_channels)
    meter.push(wav)
    return meter.integrated_lufs()
