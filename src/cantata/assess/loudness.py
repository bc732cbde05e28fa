"""Loudness facts of a recording: ITU-R BS.1770-4 integrated loudness, EBU Tech 3342
loudness range, 4x-oversampled true peak and the peak-to-loudness ratio.

The K-weighting filter and channel weights are :mod:`cantata.audio.loudness`'s; this module
adds the short-term loudness (3 s) for the loudness range and a true-peak meter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cantata.audio.loudness import channel_weights, k_weighting_sos

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0  # BS.1770-4 integrated loudness
LRA_RELATIVE_GATE_LU = -20.0  # EBU Tech 3342
LRA_PERCENTILES = (10.0, 95.0)
STEP_S = 0.1
MOMENTARY_STEPS, SHORT_TERM_STEPS = 4, 30  # 400 ms and 3 s windows, hop 100 ms
#: 4x oversampling for the true peak (BS.1770-4 Annex 2): a Kaiser-windowed sinc
OVERSAMPLE, TAPS_PER_PHASE, KAISER_BETA = 4, 16, 8.0
#: inter-sample peaks are looked for between samples within this factor of the sample peak
#: (-6 dB); anywhere else an interpolated value cannot reach the sample peak in practice
TRUE_PEAK_SEARCH = 10 ** (-6 / 20)


@dataclass(frozen=True)
class Loudness:
    """The loudness facts of one recording.

    Attributes:
        integrated_lufs: gated integrated loudness (-inf for silence or under 400 ms).
        range_lu: loudness range (EBU Tech 3342), LU (0 for under 3 s).
        true_peak_dbtp: 4x-oversampled peak, dBTP (-inf for digital silence).
        sample_peak_dbfs: highest sample magnitude, dBFS.
        momentary_lufs: loudness of each 400 ms block, hop 100 ms (for plots).
    """

    integrated_lufs: float
    range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    momentary_lufs: np.ndarray

    @property
    def plr_db(self) -> float:
        """Peak-to-loudness ratio: true peak minus integrated loudness (dB)."""
        return self.true_peak_dbtp - self.integrated_lufs


def measure_loudness(samples: np.ndarray, sample_rate: int) -> Loudness:
    """Measure ``samples`` (channels, time) at ``sample_rate``."""
    from scipy.signal import sosfilt

    x = np.asarray(samples, np.float32)
    y = sosfilt(k_weighting_sos(sample_rate).astype(np.float32), x, axis=1)
    step = round(STEP_S * sample_rate)
    n_steps = y.shape[1] // step
    squares = np.square(y[:, :n_steps * step]).reshape(y.shape[0], n_steps, step).sum(
        axis=2, dtype=np.float64)
    energy = channel_weights(y.shape[0]) @ squares  # weighted sum of squares per 100 ms
    momentary = _window_loudness(energy, MOMENTARY_STEPS, step)
    short_term = _window_loudness(energy, SHORT_TERM_STEPS, step)
    peak = float(np.abs(x).max()) if x.size else 0.0
    return Loudness(integrated(momentary), loudness_range(short_term),
                    _db(true_peak(samples, sample_rate, sample_peak=peak)), _db(peak), momentary)


def _window_loudness(step_energy: np.ndarray, steps: int, step_len: int) -> np.ndarray:
    if len(step_energy) < steps:
        return np.zeros(0)
    window = np.convolve(step_energy, np.ones(steps), mode="valid") / (steps * step_len)
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(window)


def integrated(block_lufs: np.ndarray) -> float:
    """BS.1770-4 gated loudness of 400 ms block loudnesses: absolute gate at -70 LUFS,
    relative gate 10 LU under the mean of the blocks above it."""
    gated = block_lufs[block_lufs > ABSOLUTE_GATE_LUFS]
    if not len(gated):
        return -math.inf
    kept = gated[gated > _mean_loudness(gated) + RELATIVE_GATE_LU]
    return _mean_loudness(kept)


def loudness_range(short_term_lufs: np.ndarray) -> float:
    """EBU Tech 3342 loudness range of 3 s short-term loudnesses: the 10th to 95th
    percentile of those above -70 LUFS and within 20 LU of their mean."""
    gated = short_term_lufs[short_term_lufs > ABSOLUTE_GATE_LUFS]
    if not len(gated):
        return 0.0
    kept = gated[gated > _mean_loudness(gated) + LRA_RELATIVE_GATE_LU]
    low, high = np.percentile(kept, LRA_PERCENTILES)
    return float(high - low)


def _mean_loudness(block_lufs: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(10 ** ((block_lufs + 0.691) / 10))) - 0.691)


@lru_cache(maxsize=1)
def _phases() -> np.ndarray:
    """The interpolation kernels of the 3 in-between phases, (3, TAPS_PER_PHASE):
    ``y(n + k/4) = sum_j h[k-1, j] x[n - half + 1 + j]``, each summing to 1."""
    half = TAPS_PER_PHASE // 2
    j = np.arange(-half + 1, half + 1)
    kernels = []
    for k in range(1, OVERSAMPLE):
        t = k / OVERSAMPLE - j  # distance of each tap's sample from the point
        window = np.i0(KAISER_BETA * np.sqrt(np.clip(1 - (t / half) ** 2, 0, None)))
        h = np.sinc(t) * window
        kernels.append(h / h.sum())
    return np.array(kernels)


def true_peak(samples: np.ndarray, sample_rate: int, *, sample_peak: float | None = None
              ) -> float:
    """Highest magnitude of the 4x-oversampled signal (linear), at least the sample peak.

    Only the neighbourhoods of samples within 6 dB of the sample peak are interpolated
    (:data:`TRUE_PEAK_SEARCH`): exact there, and fast on any music. ``sample_rate`` of
    176.4 kHz and above needs no oversampling (BS.1770-4).
    """
    x = np.asarray(samples, np.float32)
    peak = float(np.abs(x).max()) if sample_peak is None else sample_peak
    if peak == 0.0 or sample_rate >= 176400 or x.shape[1] < TAPS_PER_PHASE:
        return peak
    kernels = _phases().astype(np.float32)
    half = TAPS_PER_PHASE // 2
    best = peak
    for channel in x:
        loud = np.abs(channel) >= peak * TRUE_PEAK_SEARCH
        near = loud[:-1] | loud[1:]  # a peak between n and n+1
        at = np.flatnonzero(near)
        at = at[(at >= half - 1) & (at < len(channel) - half)]
        for chunk in np.array_split(at, max(1, len(at) // 65536)):
            if not len(chunk):
                continue
            windows = channel[chunk[:, None] + np.arange(-half + 1, half + 1)]
            best = max(best, float(np.abs(windows @ kernels.T).max()))
    return best


def _db(x: float) -> float:
    return 20 * math.log10(x) if x > 0 else -math.inf
