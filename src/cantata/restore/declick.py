"""Declicking by detection and autoregressive interpolation, the way FFmpeg's ``adeclick``
works, with the ``click`` defect rule's detector (:func:`cantata.audio.clicks.click_peaks`):
a click is a short, isolated outlier of a short linear predictor's residual that is no
musical onset and no panned sound, so drums and plucks are left alone. Each click's span
(where the residual stays high around its peak, plus a margin) is replaced by the samples
that fit an autoregressive model of the audio on both sides best (least-squares AR
interpolation). Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cantata.audio.clicks import click_peaks


@dataclass(frozen=True)
class DeclickConfig:
    """How clicks are found and filled.

    Attributes:
        threshold: a click's residual peak exceeds this many robust standard deviations of
            the local residual (the ``click`` defect rule's detector and default).
        merge_ms: outliers this close to an isolated click are filled too (one pop's peaks).
        reach_ms, floor, core: a click's span runs from its residual peak (at most
            ``reach_ms`` each way) over the samples whose residual exceeds ``floor`` robust
            deviations (the music's own residual rarely does) and ``core`` x the peak's
            (fainter edges change the audio less than filling them would: the error of
            an interpolation grows fast with its length) ...
        margin_ms: ... widened by this margin each side.
        order_ms: the span is filled from an autoregressive model of this order (8 ms: 384
            taps at 48 kHz; a high order resolves the partials of tonal music) ...
        context_ms: ... fitted on this much audio each side (many times the longest span).
    """

    threshold: float = 20.0
    merge_ms: float = 10.0
    reach_ms: float = 2.0
    floor: float = 4.0
    core: float = 0.1
    margin_ms: float = 0.25
    order_ms: float = 8.0
    context_ms: float = 50.0


def find_clicks(samples: np.ndarray, rate: int, config: DeclickConfig = DeclickConfig()
                ) -> list[list[tuple[int, int]]]:
    """Per channel of ``samples`` ``(channels, time)``: the sample spans [start, end) to fill,
    sorted and apart."""
    found = click_peaks(samples, rate, threshold=config.threshold,
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
        spans.append(channel)
    return spans


def interpolate(x: np.ndarray, start: int, end: int, order: int, context: int) -> np.ndarray:
    """``x`` with [start, end) replaced by its least-squares AR interpolation, the model
    fitted on the ``context`` samples each side (``x`` itself when a side has fewer than
    ``order``, at the edges of the audio)."""
    lo, hi = max(0, start - context), min(len(x), end + context)
    if start - lo < order or hi - end < order:
        return x
    order = min(order, (start - lo + hi - end) // 3)
    a = _ar(x[lo:start].astype(np.float64), x[end:hi].astype(np.float64), order)
    # the prediction errors that involve the gap: rows t predict x[t] from x[t - order:t]
    seg = x[start - order: end + order].astype(np.float64)
    gap, n_rows = end - start, end - start + order
    rows = np.arange(n_rows)[:, None] + np.arange(order + 1)[None, :]
    matrix = np.zeros((n_rows, len(seg)))
    np.put_along_axis(matrix, rows, a[::-1][None, :], axis=1)
    unknown = np.zeros(len(seg), bool)
    unknown[order: order + gap] = True
    a_u, a_k = matrix[:, unknown], matrix[:, ~unknown]
    filled = np.linalg.lstsq(a_u, -a_k @ seg[~unknown], rcond=None)[0]
    out = x.copy()
    out[start:end] = filled.astype(x.dtype)
    return out


def _ar(left: np.ndarray, right: np.ndarray, order: int) -> np.ndarray:
    """Prediction-error filter ``[1, -a1, ..., -ap]`` of the audio on both sides of a gap
    (covariance method: least squares over the predictions that stay within one side)."""
    past, now = [], []
    for side in (left, right):
        if len(side) > order:
            windows = np.lib.stride_tricks.sliding_window_view(side, order + 1)
            past.append(windows[:, -2::-1])
            now.append(windows[:, -1])
    past_all, now_all = np.concatenate(past), np.concatenate(now)
    gram = past_all.T @ past_all
    gram[np.diag_indices(order)] += 1e-9 * np.trace(gram) / order + 1e-12  # always solvable
    return np.concatenate([[1.0], -np.linalg.solve(gram, past_all.T @ now_all)])


def declick(samples: np.ndarray, rate: int, config: DeclickConfig = DeclickConfig()
            ) -> tuple[np.ndarray, int]:
    """(channels, time) with its clicks interpolated, and how many spans were filled."""
    out, count = samples.astype(np.float32, copy=True), 0
    order = max(2, round(config.order_ms * rate / 1000))
    context = max(3 * order, round(config.context_ms * rate / 1000))
    for ch, spans in enumerate(find_clicks(out, rate, config)):
        for start, end in spans:
            out[ch] = interpolate(out[ch], start, end, order, context)
            count += 1
    return out, count
