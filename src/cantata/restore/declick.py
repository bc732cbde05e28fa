"""Declicking by detection and autoregressive interpolation, the way FFmpeg's ``adeclick``
works: a linear predictor (LPC) is fitted to each block of audio; samples whose prediction
error stands far above the block's typical error are clicks; each click is replaced by
the samples that fit the same autoregressive model best given the audio around it
(least-squares AR interpolation). Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

#: a click's span: the outliers of a run within this fraction of its largest error
CORE = 0.2


@dataclass(frozen=True)
class DeclickConfig:
    """How clicks are found and filled.

    Attributes:
        order: LPC order.
        block_ms: blocks the predictor is fitted on.
        threshold: a click's prediction error exceeds this many robust standard deviations
            of the block's error.
        max_gap_ms: longer runs of outliers are left alone (a transient, not a click).
        margin: samples added on each side of a detected run.
    """

    order: int = 32
    block_ms: float = 50.0
    threshold: float = 16.0
    max_gap_ms: float = 1.5
    margin: int = 2


def lpc(x: np.ndarray, order: int) -> np.ndarray:
    """Prediction-error filter ``[1, -a1, ..., -ap]`` of ``x`` (autocorrelation method)."""
    w = x * np.hanning(len(x))
    r = np.correlate(w, w, "full")[len(w) - 1: len(w) + order]
    r[0] = r[0] * (1 + 1e-9) + 1e-12  # white-noise correction: always solvable
    a = solve_toeplitz(r[:-1], r[1:])
    return np.concatenate([[1.0], -a])


def find_clicks(x: np.ndarray, rate: int, config: DeclickConfig = DeclickConfig()
                ) -> list[tuple[int, int]]:
    """Sample spans [start, end) of the clicks in a mono signal."""
    p, block = config.order, max(4 * config.order, round(config.block_ms * rate / 1000))
    score = np.zeros(len(x))
    for start in range(0, len(x), block):
        first = max(0, start - p)  # p samples of history: no error without them
        seg = x[first: start + block].astype(np.float64)
        if len(seg) <= 2 * p or not np.any(seg):
            continue
        err = lfilter(lpc(seg, p), [1.0], seg)[p:]
        sigma = 1.4826 * np.median(np.abs(err)) + 1e-9
        score[first + p: first + p + len(err)] = np.abs(err) / sigma
    flags = score > config.threshold
    spans, max_gap = [], round(config.max_gap_ms * rate / 1000)
    idx = np.flatnonzero(flags)
    if not idx.size:
        return spans
    breaks = np.flatnonzero(np.diff(idx) > p // 2)  # outliers close together: one click
    for lo, hi in zip(np.r_[idx[0], idx[breaks + 1]], np.r_[idx[breaks], idx[-1]], strict=True):
        core = lo + np.flatnonzero(score[lo: hi + 1] > CORE * score[lo: hi + 1].max())
        lo, hi = core[0], core[-1]  # the click, without the predictor's ringing after it
        if hi - lo + 1 <= max_gap:
            spans.append((max(0, int(lo) - config.margin),
                          min(len(x), int(hi) + 1 + config.margin)))
    return spans


def interpolate(x: np.ndarray, start: int, end: int, order: int) -> np.ndarray:
    """``x`` with [start, end) replaced by its least-squares AR interpolation from the
    ``max(3 order, 2 gap)`` samples on each side."""
    context = max(3 * order, 2 * (end - start))
    lo, hi = max(0, start - context), min(len(x), end + context)
    seg = x[lo:hi].astype(np.float64)
    known = np.ones(len(seg), bool)
    known[start - lo: end - lo] = False
    if start - lo < order or hi - end < order:
        return x  # too near an edge to interpolate reliably
    a = lpc(np.where(known, seg, 0.0), order)
    n_rows = len(seg) - order
    rows = np.arange(n_rows)[:, None] + np.arange(order + 1)[None, :]  # (rows, p+1)
    matrix = np.zeros((n_rows, len(seg)))
    np.put_along_axis(matrix, rows, a[::-1][None, :], axis=1)  # row t predicts seg[t+p]
    a_u, a_k = matrix[:, ~known], matrix[:, known]
    rhs = -a_u.T @ (a_k @ seg[known])
    filled = np.linalg.lstsq(a_u.T @ a_u, rhs, rcond=None)[0]
    out = x.copy()
    out[start:end] = filled.astype(x.dtype)
    return out


def declick(samples: np.ndarray, rate: int, config: DeclickConfig = DeclickConfig()
            ) -> tuple[np.ndarray, int]:
    """(channels, time) with its clicks interpolated, and how many clicks were filled."""
    out, count = samples.astype(np.float32, copy=True), 0
    for ch in range(out.shape[0]):
        for start, end in find_clicks(out[ch], rate, config):
            out[ch] = interpolate(out[ch], start, end, config.order)
            count += 1
    return out, count
