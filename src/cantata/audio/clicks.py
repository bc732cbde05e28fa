"""Where clicks are: short, isolated outliers of a short linear predictor's residual.

Shared by the ``click`` defect rule (:func:`cantata.defects.rules.click`, which reports
them) and the declicker (:mod:`cantata.restore.declick`, which repairs them); pure numpy.
"""

from __future__ import annotations

import numpy as np

#: a robust standard deviation from a median absolute deviation (Gaussian consistency)
MAD_TO_SIGMA = 1.4826


def block_view(x: np.ndarray, block: int) -> np.ndarray:
    """``x`` cut into whole blocks ``(n_blocks, block)``; the tail is zero-padded."""
    n_blocks = max(1, -(-len(x) // block))
    padded = np.zeros(n_blocks * block, x.dtype)
    padded[:len(x)] = x
    return padded.reshape(n_blocks, block)


def spread(per_block: np.ndarray) -> np.ndarray:
    """Per block: the largest of its value and both neighbours'."""
    padded = np.concatenate((per_block[:1], per_block, per_block[-1:]))
    return np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:])


def click_peaks(samples: np.ndarray, sr: int, *, threshold: float = 20.0,
                isolation: float = 0.3, context_s: float = 0.01, partial: float = 0.5,
                quiet: float = 4.0, order: int = 12, block_s: float = 0.025,
                min_db: float = -60.0, merge_s: float = 0.5, onset_db: float = 3.0,
                onset_s: float = 0.02, guard_s: float = 0.003
                ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per channel of ``samples`` ``(channels, time)``: the clicks' residual peaks (their
    samples, sorted, and scores) and the residual score of every sample (``|residual|`` over
    its local robust floor). :func:`cantata.defects.rules.click` documents the parameters."""
    block = max(4 * order, round(block_s * sr))
    floor_abs, gap = 10 ** (min_db / 20), round(merge_s * sr)
    cell, context = max(1, round(sr / 1000)), max(3, round(context_s * 1000))
    scores = [residual_score(x, order, block, floor_abs) for x in samples]
    found = []
    for c, (x, z) in enumerate(zip(samples, scores, strict=True)):
        at, peak, around = outliers(z, threshold, cell, context)
        seed = around < isolation * peak
        if len(scores) > 1:  # heard in the other channels, but weaker: a musical sound
            near = np.clip(at[:, None] + np.arange(-2, 3), 0, len(z) - 1)
            other = np.max([o[near].max(axis=1) for i, o in enumerate(scores) if i != c],
                           axis=0)
            seed &= ~((other > quiet) & (other < partial * peak))
        keep = seed | within(at, at[seed], gap)
        at, peak = at[keep], peak[keep]
        ok = ~onsets(x, at, round(onset_s * sr), round(guard_s * sr), onset_db)
        at, peak = at[ok], peak[ok]
        ok = ~silence_edges(x, at, order, floor_abs)
        found.append((at[ok], peak[ok], z))
    return found


def residual_score(x: np.ndarray, order: int, block: int, floor_abs: float) -> np.ndarray:
    """|LPC residual| over its local robust floor; 0 where the residual is below
    ``floor_abs``."""
    residual = np.abs(lpc_residual(x, order, block))
    floor = np.repeat(local_floor(residual, block), block)[:len(x)]
    score = residual / np.maximum(floor, 1e-12)
    score[residual <= floor_abs] = 0.0
    return score


def outliers(z: np.ndarray, threshold: float, cell: int, context: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The peaks of ``z`` over ``threshold``, one per local maximum of its ``cell``-sample
    maxima: their samples, values, and the largest cell maximum from ``context`` to 2
    cells before and from 3 to ``context`` + 2 cells after."""
    cells = block_view(z, cell)
    top = cells.max(axis=1)
    k = np.flatnonzero((top > threshold) & (top >= np.concatenate(([0.0], top[:-1])))
                       & (top > np.concatenate((top[1:], [0.0]))))
    at = k * cell + np.argmax(cells[k], axis=1)
    pad = context + 2
    padded = np.concatenate((np.zeros(pad), top, np.zeros(pad)))
    before = padded[(k + pad)[:, None] - np.arange(2, context + 1)]
    after = padded[(k + pad)[:, None] + np.arange(3, context + 3)]
    around = np.maximum(before.max(axis=1, initial=0.0), after.max(axis=1, initial=0.0))
    return np.minimum(at, len(z) - 1), top[k], around


def within(at: np.ndarray, seeds: np.ndarray, gap: int) -> np.ndarray:
    """Whether each of ``at`` lies within ``gap`` samples of one of ``seeds`` (sorted)."""
    if not len(seeds):
        return np.zeros(len(at), bool)
    j = np.searchsorted(seeds, at)
    return ((np.abs(seeds[np.minimum(j, len(seeds) - 1)] - at) <= gap)
            | (np.abs(at - seeds[np.maximum(j - 1, 0)]) <= gap))


def onsets(x: np.ndarray, at: np.ndarray, width: int, guard: int, db: float) -> np.ndarray:
    """Whether the ``width`` samples after each of ``at`` (``guard`` away) hold more than
    ``db`` more energy than the ``width`` before it (``guard`` away): a musical onset."""
    energy = np.concatenate(([0.0], np.cumsum(x.astype(np.float64) ** 2)))
    n = len(x)

    def window(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        lo, hi = np.clip(lo, 0, n), np.clip(hi, 0, n)
        return (energy[hi] - energy[lo]) / np.maximum(hi - lo, 1)

    before = window(at - guard - width, at - guard)
    after = window(at + guard, at + guard + width)
    return after > before * 10 ** (db / 10) + 1e-12


def local_floor(residual: np.ndarray, block: int) -> np.ndarray:
    """Per block: the robust noise floor (1.4826 x median), the largest of it and both
    neighbours' (so an onset is judged against the louder side). A last, partial block
    is judged on its own samples, not on the zeros that pad it."""
    blocks = block_view(residual, block)
    half = blocks[:, ::2]  # every other sample: half the work, as robust
    middle = half.shape[1] // 2
    median = np.partition(half, middle, axis=1)[:, middle]
    tail = len(residual) % block
    if tail:
        median[-1] = np.median(residual[len(residual) - tail:])
    return spread(MAD_TO_SIGMA * median)


def silence_edges(x: np.ndarray, at: np.ndarray, width: int, level: float) -> np.ndarray:
    """Whether each sample of ``at`` borders silence on exactly one side (the edge of a
    dropout or of a pause: a step, not a click or a jump)."""
    mag = np.abs(x)
    before = np.array([mag[max(0, n - width):n].max(initial=0.0) < level for n in at], bool)
    after = np.array([mag[n + 1:n + 1 + width].max(initial=0.0) < level for n in at], bool)
    return before != after


def lpc_residual(x: np.ndarray, order: int, block: int) -> np.ndarray:
    """The residual of an ``order``-tap linear predictor fitted to each block of ``x``
    (zero over the first ``order`` samples, which have no history); float32."""
    blocks = block_view(x.astype(np.float32), block)
    r = np.stack([np.einsum("ij,ij->i", blocks[:, k:], blocks[:, :block - k])
                  for k in range(order + 1)], axis=1).astype(np.float64)
    r[:, 0] = r[:, 0] * (1 + 1e-6) + 1e-12  # white-noise correction: always solvable
    lags = np.abs(np.arange(order)[:, None] - np.arange(order)[None, :])
    coeffs = np.linalg.solve(r[:, lags], r[:, 1:, None])[..., 0].astype(np.float32)
    flat = np.concatenate((np.zeros(order, np.float32), blocks.ravel()))
    residual, term = blocks.copy(), np.empty_like(blocks)
    for k in range(1, order + 1):
        past = flat[order - k:order - k + blocks.size].reshape(blocks.shape)
        residual -= np.multiply(past, coeffs[:, k - 1:k], out=term)
    residual = residual.ravel()[:len(x)]
    residual[:order] = 0.0
    return residual
