"""Declicking by detection and autoregressive interpolation, the way FFmpeg's ``adeclick``
works, with the ``click`` defect rule's detector (:func:`cantata.audio.clicks.click_peaks`):
a click is a short, isolated outlier of a short linear predictor's residual that is no
musical onset and no panned sound, so drums and plucks are left alone. Each click's span
(where the residual stays high around its peak, plus a margin) is replaced by the samples
that fit an autoregressive model of the audio on both sides best (least-squares AR
interpolation), then refined towards what was heard where the first fill found little
click; finding and filling run twice. Numpy and scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.linalg import solve_toeplitz, toeplitz
from scipy.signal import fftconvolve
from scipy.signal.windows import tukey

from cantata.audio.clicks import click_peaks

#: the AR fit's white-noise correction (a share of the power added to the zero lag): a
#: model with a zero on the unit circle leaves a fill free to drift along it
WHITE_NOISE = 1e-4
#: the share of each side of a gap that the AR fit's window tapers (a Hann taper of all of
#: it weighs the audio next to the gap too little)
TAPER = 0.1


@dataclass(frozen=True)
class DeclickConfig:
    """How clicks are found and filled.

    Attributes:
        threshold: a click's residual peak exceeds this many robust standard deviations of
            the local residual (the ``click`` defect rule's detector and default).
        isolation: the residual around a click (2 to 10 ms before, 3 to 12 ms after) stays
            below this share of its peak (the defect rule's default is 0.3, which misses a
            click with another within 12 ms; a looser share also takes more drum attacks).
        merge_ms: outliers this close to an isolated click are filled too (one pop's peaks).
        reach_ms, floor, core: a click's span runs from its residual peak (at most
            ``reach_ms`` each way) over the samples whose residual exceeds ``floor`` robust
            deviations (the music's own residual rarely does) and ``core`` x the peak's
            (fainter edges change the audio less than filling them would: the error of
            an interpolation grows fast with its length) ...
        margin_ms: ... widened by this margin each side; a span longer than ``longest_ms``
            is left alone (clicks last up to 2 ms; the fill of a longer span errs the more,
            and what the detector takes for one there is mostly a drum's attack).
        order_ms: the span is filled from an autoregressive model of this order (21 ms:
            1008 taps at 48 kHz; a high order resolves the partials of tonal music) ...
        context_ms: ... fitted on this much audio each side (many times the order).
        passes: clicks are found and filled this many times over (a click next to a
            louder one stands out once that one is filled).
    """

    threshold: float = 20.0
    isolation: float = 1.0
    merge_ms: float = 10.0
    reach_ms: float = 2.0
    floor: float = 4.0
    core: float = 0.1
    margin_ms: float = 0.25
    longest_ms: float = 3.0
    order_ms: float = 21.0
    context_ms: float = 200.0
    passes: int = 2


def find_clicks(samples: np.ndarray, rate: int, config: DeclickConfig = DeclickConfig()
                ) -> list[list[tuple[int, int]]]:
    """Per channel of ``samples`` ``(channels, time)``: the sample spans [start, end) to fill,
    sorted and apart."""
    found = click_peaks(samples, rate, threshold=config.threshold, isolation=config.isolation,
                        merge_s=config.merge_ms / 1000)
    reach, margin = round(config.reach_ms * rate / 1000), round(config.margin_ms * rate / 1000)
    spans = []
    for at, top, score in found:
        n, channel = len(score), []
        for peak, height in zip(at, top, strict=True):
            lo, hi = max(0, peak - reach), min(n, peak + reach + 1)
            level = max(config.floor, config.core * height)
            high = lo + np.flatnonzero(score[lo:hi] > level)
            start = max(0, int(min(high.min(initial=peak), peak)) - margin)
            end = min(n, int(max(high.max(initial=peak), peak)) + 1 + margin)
            if channel and start <= channel[-1][1]:
                channel[-1] = (channel[-1][0], max(end, channel[-1][1]))
            else:
                channel.append((start, end))
        longest = config.longest_ms * rate / 1000
        spans.append([(s, e) for s, e in channel if e - s <= longest])
    return spans


def interpolate(x: np.ndarray, start: int, end: int, order: int, context: int) -> np.ndarray:
    """``x`` (time,) with [start, end) replaced by its least-squares AR interpolation, the
    model fitted on the ``context`` samples each side (``order`` lowered to what a short
    side holds; ``x`` itself at the very edges of the audio). A second solve keeps the
    samples where the first found little click closer to what was heard."""
    lo, hi = max(0, start - context), min(len(x), end + context)
    order = min(order, start - lo, hi - end, (start - lo + hi - end) // 3)
    if order < 2:
        return x
    left, right = x[lo:start].astype(np.float64), x[end:hi].astype(np.float64)
    a = _ar(left, right, order)
    seg = x[start - order: end + order].astype(np.float64)
    heard = seg[order: len(seg) - order]
    first = _lsar(seg, a)
    click = _spread(np.abs(heard - first), 2) ** 2
    weight = _excitation(left, right, a) / (click + 1e-20)
    out = x.copy()
    out[start:end] = _lsar(seg, a, weight).astype(x.dtype)
    return out


def _ar(left: np.ndarray, right: np.ndarray, order: int) -> np.ndarray:
    """Prediction-error filter ``[1, -a1, ..., -ap]`` of the audio on both sides of a gap
    (autocorrelation method: both sides under a Tukey window that tapers a tenth of each,
    their autocorrelations summed, solved by Levinson recursion)."""
    r = np.zeros(order + 1)
    for side in (left, right):
        side = side * tukey(len(side), TAPER)
        n = 1 << (2 * len(side) - 1).bit_length()
        r += np.fft.irfft(np.abs(np.fft.rfft(side, n)) ** 2, n)[: order + 1]
    r[0] = r[0] * (1 + WHITE_NOISE) + 1e-12
    return np.concatenate([[1.0], -solve_toeplitz(r[:order], r[1:])])


def _lsar(seg: np.ndarray, a: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """The gap of ``seg`` (``order`` known samples, the gap, ``order`` known samples) that
    minimises the prediction error energy of filter ``a`` (order + 1,) over every
    prediction that involves it, plus ``sum(weight * (gap - seg's gap) ** 2)`` when
    ``weight`` (gap,) is given; (gap,)."""
    order = len(a) - 1
    gap = len(seg) - 2 * order
    known = seg.copy()
    known[order: order + gap] = 0.0
    error = fftconvolve(known, a, mode="valid")  # (gap + order,): the known part's errors
    rhs = -sliding_window_view(error, order + 1)[:gap] @ a
    ra = np.correlate(a, a, mode="full")[order:]
    column = np.zeros(gap)
    column[: min(gap, order + 1)] = ra[: min(gap, order + 1)]
    if weight is None:
        return solve_toeplitz(column, rhs)
    system = toeplitz(column) + np.diag(weight)
    return np.linalg.solve(system, rhs + weight * seg[order: order + gap])


def _excitation(left: np.ndarray, right: np.ndarray, a: np.ndarray) -> float:
    """The mean squared prediction error of filter ``a`` over both sides."""
    errors = [fftconvolve(side, a, mode="valid") for side in (left, right) if len(side) >= len(a)]
    return float(np.mean(np.concatenate(errors) ** 2)) if errors else 0.0


def _spread(x: np.ndarray, width: int) -> np.ndarray:
    """Per sample of ``x`` (n,): the largest value within ``width`` samples."""
    padded = np.pad(x, width)
    return sliding_window_view(padded, 2 * width + 1).max(axis=1)


def declick(samples: np.ndarray, rate: int, config: DeclickConfig = DeclickConfig()
            ) -> tuple[np.ndarray, int]:
    """(channels, time) with its clicks interpolated, and how many spans were filled."""
    out, count = samples.astype(np.float32, copy=True), 0
    order = max(2, round(config.order_ms * rate / 1000))
    context = max(3 * order, round(config.context_ms * rate / 1000))
    for _ in range(config.passes):
        for ch, spans in enumerate(find_clicks(out, rate, config)):
            for start, end in spans:
                out[ch] = interpolate(out[ch], start, end, order, context)
                count += 1
    return out, count
