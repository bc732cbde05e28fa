"""Duplicates: the same content under two paths (equal PCM hashes) and near duplicates
(other encodes or edits of one recording) by their loudness curves or their embeddings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: loudness curves this correlated (over this share of the shorter one) are one recording
CURVE_SIMILAR, CURVE_OVERLAP = 0.97, 0.8
CURVE_FLOOR_LUFS = -70.0
#: mean segment embeddings this close (cosine) are one recording
EMBEDDING_SIMILAR = 0.98


def identical(hashes: Mapping[str, str]) -> dict[str, list[str]]:
    """name -> the other names whose PCM hash is the same."""
    groups: dict[str, list[str]] = {}
    for name, digest in hashes.items():
        groups.setdefault(digest, []).append(name)
    return {name: [o for o in groups[digest] if o != name] for name, digest in hashes.items()}


def curve_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The best correlation of two momentary-loudness curves (100 ms hop) over the lags
    where they overlap by at least :data:`CURVE_OVERLAP` of the shorter; 0 when too short.
    Every lag at once: the products by FFT, the sums from running totals."""
    from scipy.signal import correlate

    a, b = (np.maximum(np.asarray(c, np.float64), CURVE_FLOOR_LUFS) for c in (a, b))
    if len(a) > len(b):
        a, b = b, a
    m, n = len(a), len(b)
    need = max(10, int(np.ceil(CURVE_OVERLAP * m)))
    if m < 10 or a.std() == 0 or b.std() == 0:
        return 0.0
    a, b = a - a.mean(), b - b.mean()  # better conditioned sums; correlation unchanged
    lags = np.arange(-(m - need), n - need + 1)
    products = correlate(b, a, mode="full", method="fft")[lags + m - 1]  # sum a[i] b[i+lag]
    start = np.maximum(0, -lags)  # a's overlapping part: [start, stop)
    stop = np.minimum(m, n - lags)
    count = stop - start

    def sums(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        total = np.concatenate([[0.0], np.cumsum(x)])
        squares = np.concatenate([[0.0], np.cumsum(x * x)])
        return total[hi] - total[lo], squares[hi] - squares[lo]

    sa, qa = sums(a, start, stop)
    sb, qb = sums(b, start + lags, stop + lags)
    cov = products - sa * sb / count
    var = (qa - sa**2 / count) * (qb - sb**2 / count)
    ok = (count >= need) & (var > 1e-12)
    if not ok.any():
        return 0.0
    return float(np.max(cov[ok] / np.sqrt(var[ok])))


def near_by_curves(curves: Mapping[str, np.ndarray], durations: Mapping[str, float],
                   exclude: Mapping[str, Sequence[str]] = ()) -> dict[str, list[tuple[str, float]]]:
    """name -> [(other name, similarity)] of recordings whose loudness curves match
    (:data:`CURVE_SIMILAR`), leaving out the pairs in ``exclude`` (identical ones)."""
    names = list(curves)
    found: dict[str, list[tuple[str, float]]] = {n: [] for n in names}
    skip = dict(exclude) if exclude else {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if b in skip.get(a, ()):
                continue
            short, long = sorted((durations[a], durations[b]))
            if long <= 0 or short / long < CURVE_OVERLAP:
                continue
            similarity = curve_similarity(curves[a], curves[b])
            if similarity >= CURVE_SIMILAR:
                found[a].append((b, round(similarity, 4)))
                found[b].append((a, round(similarity, 4)))
    return found


def near_by_embeddings(track_ids: np.ndarray, vectors: np.ndarray, of: int
                       ) -> list[tuple[int, float]]:
    """[(track id, cosine)] of the tracks whose mean embedding is within
    :data:`EMBEDDING_SIMILAR` of track ``of``'s, most similar first."""
    ids = np.unique(track_ids)
    if of not in ids:
        return []
    means = np.stack([vectors[track_ids == i].mean(axis=0) for i in ids])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    cos = means @ means[np.flatnonzero(ids == of)[0]]
    order = np.argsort(-cos)
    return [(int(ids[k]), round(float(cos[k]), 4)) for k in order
            if ids[k] != of and cos[k] >= EMBEDDING_SIMILAR]
