"""Where clicks are: short, isolated outliers of a short linear predictor's residual.

Shared by the ``click`` defect rule (:func:`cantata.defects.rules.click`, which reports
them) and the declicker (:mod:`cantata.restore.declick`, which repairs them); pure numpy.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

#: a robust standard deviation from a median absolute deviation (Gaussian consistency)
MAD_TO_SIGMA = 1.4826


def block_view(x: np.ndarray, block: int) -> np.ndarray:
    """``x`` cut into whole blocks ``(n_blocks, block)``; the tail is zero-padded."""
    n_blocks = max(1, -(-len(x) // block))
    padded = np.zeros(n_blocks * block, x.dtype)
    padded[:len(x)] = x
    return padded.reshape(n_blocks, block)


def block_max(x: np.ndarray, block: int) -> np.ndarray:
    """Per block of a non-negative ``x`` (time,): its largest value, as
    ``block_view(x, block).max(axis=1)`` without the padded copy; (n_blocks,)."""
    if not len(x):
        return np.zeros(1, x.dtype)
    return np.maximum.reduceat(x, np.arange(0, len(x), block))


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
    return residual_and_score(x, order, block, floor_abs)[1]


def residual_and_score(x: np.ndarray, order: int, block: int, floor_abs: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``|LPC residual|`` of ``x`` and :func:`residual_score`, both (time,)."""
    residual, median = _abs_residual_blocks(x, order, block)
    tail = len(x) % block
    if tail:  # a last, partial block: its own samples, not the zeros that pad it
        median[-1] = np.median(residual[-1, :tail])
    floor = spread(MAD_TO_SIGMA * median)
    score = residual / np.maximum(floor, 1e-12)[:, None]
    score *= residual > floor_abs  # 0 below it (a multiply: 5x a masked assignment)
    return residual.ravel()[:len(x)], score.ravel()[:len(x)]


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
    median = _half_median(block_view(residual, block))
    tail = len(residual) % block
    if tail:
        median[-1] = np.median(residual[len(residual) - tail:])
    return spread(MAD_TO_SIGMA * median)


def _half_median(blocks: np.ndarray) -> np.ndarray:
    """Per row of ``blocks`` (n, block): the median of every other sample (half the work,
    as robust); (n,)."""
    half = blocks[:, ::2]
    return np.partition(half, half.shape[1] // 2, axis=1)[:, half.shape[1] // 2]


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
    residual = np.empty((_n_blocks(x, block), block), np.float32)
    for rows, chunk in _residual_chunks(x, order, block):
        residual[rows] = chunk
    return residual.ravel()[:len(x)]


#: blocks fitted and filtered at a time: a chunk's arrays stay in the cache
CHUNK_BLOCKS = 128


def _n_blocks(x: np.ndarray, block: int) -> int:
    return max(1, -(-len(x) // block))


def _residual_chunks(x: np.ndarray, order: int, block: int
                     ) -> Iterator[tuple[slice, np.ndarray]]:
    """:func:`lpc_residual` of ``x`` as whole blocks, ``CHUNK_BLOCKS`` at a time: which
    blocks, and their residual (rows, block) float32 (in the padded tail, the predictor's
    output on the zeros)."""
    blocks = block_view(np.asarray(x, np.float32), block)
    flat = np.concatenate((np.zeros(order, np.float32), blocks.ravel()))  # no history: 0
    for lo in range(0, len(blocks), CHUNK_BLOCKS):
        hi = min(lo + CHUNK_BLOCKS, len(blocks))
        chunk = _predict_rows(blocks[lo:hi], flat[lo * block:hi * block + order], order)
        if lo == 0:
            chunk.ravel()[:order] = 0.0
        yield slice(lo, hi), chunk


def _predict_rows(blocks: np.ndarray, flat: np.ndarray, order: int) -> np.ndarray:
    """The residual of each row of ``blocks`` (n, block) after its own ``order``-tap
    predictor (autocorrelation method); ``flat`` holds the ``order`` samples before the
    rows, then the rows. (n, block) float32."""
    block = blocks.shape[1]
    r = np.stack([np.einsum("ij,ij->i", blocks[:, k:], blocks[:, :block - k])
                  for k in range(order + 1)], axis=1).astype(np.float64)
    r[:, 0] = r[:, 0] * (1 + 1e-6) + 1e-12  # white-noise correction: always solvable
    lags = np.abs(np.arange(order)[:, None] - np.arange(order)[None, :])
    coeffs = np.linalg.solve(r[:, lags], r[:, 1:, None])[..., 0].astype(np.float32)
    residual, term = blocks.copy(), np.empty_like(blocks)
    for k in range(1, order + 1):
        past = flat[order - k:order - k + blocks.size].reshape(blocks.shape)
        residual -= np.multiply(past, coeffs[:, k - 1:k], out=term)
    return residual


def _abs_residual_blocks(x: np.ndarray, order: int, block: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``|lpc_residual(x)|`` as whole blocks (n, block; see :func:`_residual_chunks` for the
    padded tail), and each block's :func:`_half_median` (n,), taken chunk by chunk while
    the chunk is in the cache."""
    residual = np.empty((_n_blocks(x, block), block), np.float32)
    median = np.empty(len(residual), np.float32)
    for rows, chunk in _residual_chunks(x, order, block):
        median[rows] = _half_median(np.abs(chunk, out=residual[rows]))
    return residual, median


# ---------------------------------------------------------------------------- candidates

#: residual outliers over this many robust deviations are click candidates for a verifier
CANDIDATE_THRESHOLD = 10.0
#: cells (1 ms) of residual-score profile either side of a candidate
PROFILE_CELLS = 16
#: samples of residual-score shape either side of a candidate
SHAPE_SAMPLES = 16
#: cells (2 ms) of level envelope either side of a candidate
ENVELOPE_CELLS = 20
N_CANDIDATE_FEATURES = (2 * (2 * PROFILE_CELLS + 1) + (2 * SHAPE_SAMPLES + 1)
                        + 2 * ENVELOPE_CELLS + 6)


def click_candidates(samples: np.ndarray, sr: int, *, threshold: float = CANDIDATE_THRESHOLD,
                     order: int = 12, block_s: float = 0.025, min_db: float = -60.0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Every residual outlier of ``samples`` (channels, time) that could be a click, and
    what a learnt verifier needs to tell a click from the music around it.

    An outlier is a local maximum of the 1 ms cell maxima of :func:`residual_score` over
    ``threshold``, in any channel; outliers of several channels within a cell are one,
    described in the channel where it stands out most. Its features (``N_CANDIDATE_FEATURES``,
    all of order 1): ``log1p`` of the residual score's cell maxima over +-16 ms in that
    channel and (largest of) the other channels (zeros for mono); the score of the +-16
    samples around it over its own (the impulse's shape); the level envelope in 2 ms cells
    over +-40 ms, in decibels / 60 relative to its loudest cell; then ``log1p`` of its
    score, the residual's and the envelope's peak level (dBFS / 60), the energy after it
    against before it (dB / 20, a note's attack), a mono flag and the sample rate / 48 kHz.

    Returns:
        The candidates' samples (n,) sorted, and their features (n, N_CANDIDATE_FEATURES)
        float32.
    """
    samples = np.atleast_2d(np.asarray(samples, np.float32))
    n_time = samples.shape[1]
    empty = (np.zeros(0, np.int64), np.zeros((0, N_CANDIDATE_FEATURES), np.float32))
    block = max(4 * order, round(block_s * sr))
    if n_time < 2 * block:
        return empty
    floor_abs, cell = 10 ** (min_db / 20), max(1, round(sr / 1000))
    pairs = [residual_and_score(x, order, block, floor_abs) for x in samples]
    tops = np.stack([block_max(z, cell) for _, z in pairs])  # (channels, cells)
    best = tops.max(axis=0)
    k = np.flatnonzero((best > threshold) & (best >= np.concatenate(([0.0], best[:-1])))
                       & (best > np.concatenate((best[1:], [0.0]))))
    if not len(k):
        return empty
    channel = tops[:, k].argmax(axis=0)
    residual, z = [r for r, _ in pairs], [z for _, z in pairs]
    at = _take(z, channel, k[:, None] * cell + np.arange(cell)).argmax(axis=1) + k * cell
    at = np.minimum(at, n_time - 1)
    span = k[:, None] + np.arange(-PROFILE_CELLS, PROFILE_CELLS + 1)
    own_profile = np.log1p(_take(list(tops), channel, span))
    other_profile = np.log1p(_take(list(_others_max(tops)), channel, span))
    peak_z = _take(z, channel, at[:, None])[:, 0]
    residual_peak = _take(residual, channel, at[:, None])[:, 0]
    shape = _take(z, channel, at[:, None] + np.arange(-SHAPE_SAMPLES, SHAPE_SAMPLES + 1))
    shape = np.clip(shape / np.maximum(peak_z[:, None], 1e-6), 0.0, 2.0)
    env_cell, width, guard = 2 * cell, round(0.02 * sr), round(0.003 * sr)
    power = _LocalPower(samples, channel, at, max(ENVELOPE_CELLS * env_cell, guard + width))
    level = power.mean(env_cell * np.arange(-ENVELOPE_CELLS, ENVELOPE_CELLS), env_cell)
    level_db = 10 * np.log10(level + 1e-12)
    loudest = level_db.max(axis=1)
    envelope = np.clip(level_db - loudest[:, None], -60.0, 0.0) / 60.0
    before = power.mean(np.array([-guard - width]), width)[:, 0]
    after = power.mean(np.array([guard]), width)[:, 0]
    attack = np.clip(10 * np.log10((after + 1e-12) / (before + 1e-12)), -40, 40) / 20.0
    scalars = np.stack([np.log1p(peak_z), 20 * np.log10(residual_peak + 1e-9) / 60.0,
                        loudest / 60.0, attack, np.full(len(k), float(len(samples) == 1)),
                        np.full(len(k), sr / 48000.0)], axis=1)
    features = np.concatenate([own_profile, other_profile, shape, envelope, scalars], axis=1)
    return at.astype(np.int64), features.astype(np.float32)


class _LocalPower:
    """Mean powers of windows near each candidate, from the ``half`` samples either side
    of it in its channel (samples outside the signal left out of the mean)."""

    def __init__(self, samples: np.ndarray, channel: np.ndarray, at: np.ndarray,
                 half: int) -> None:
        index = at[:, None] + np.arange(-half, half)
        inside = (index >= 0) & (index < samples.shape[1])
        x = _take(list(samples), channel, index).astype(np.float64)
        zero = np.zeros((len(at), 1))
        self.energy = np.concatenate([zero, np.cumsum(x * x, axis=1)], axis=1)
        self.count = np.concatenate([zero, np.cumsum(inside, axis=1)], axis=1)
        self.half = half

    def mean(self, starts: np.ndarray, width: int) -> np.ndarray:
        """(n, len(starts)): the mean power of the ``width`` samples from each of
        ``starts`` (relative to the candidate)."""
        lo = np.clip(starts + self.half, 0, 2 * self.half)
        hi = np.clip(lo + width, 0, 2 * self.half)
        return ((self.energy[:, hi] - self.energy[:, lo])
                / np.maximum(self.count[:, hi] - self.count[:, lo], 1))


def _others_max(rows: np.ndarray) -> np.ndarray:
    """Per channel of ``rows`` (channels, m): the largest of the other channels' rows
    (zeros for one channel)."""
    if len(rows) == 1:
        return np.zeros_like(rows)
    return np.stack([np.delete(rows, c, axis=0).max(axis=0) for c in range(len(rows))])


def _take(rows: list[np.ndarray], row: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``rows[row[i]][index[i]]`` (index (n, m)), 0 outside the row."""
    out = np.zeros(index.shape)
    for c, values in enumerate(rows):
        mine = row == c
        if mine.any():
            idx = index[mine]
            inside = (idx >= 0) & (idx < len(values))
            out[mine] = np.where(inside, values[np.clip(idx, 0, len(values) - 1)], 0.0)
    return out
