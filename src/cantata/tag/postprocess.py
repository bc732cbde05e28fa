"""Tag decisions, pure array arithmetic: pooling chunk scores into a song's, per-tag
thresholds (F1-optimal on validation), the metrics that pick and judge them, and the
result of tagging one recording (:class:`TagScores`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cantata.errors import ConfigError

POOLINGS = ("mean", "max")
#: the threshold of a tag never calibrated (a checkpoint without thresholds, a debug model)
DEFAULT_THRESHOLD = 0.5


def pool(chunk_probs: np.ndarray, method: str = "mean") -> np.ndarray:
    """Song scores (tags,) from chunk probabilities (chunks, tags).

    Raises:
        ConfigError: an unknown method, or no chunk.
    """
    if method not in POOLINGS:
        raise ConfigError(f"pooling must be one of {list(POOLINGS)}, got {method!r}")
    if chunk_probs.ndim != 2 or not len(chunk_probs):
        raise ConfigError(f"need (chunks, tags) scores with a chunk, got {chunk_probs.shape}")
    return chunk_probs.mean(axis=0) if method == "mean" else chunk_probs.max(axis=0)


def roc_auc(scores: np.ndarray, target: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None unless both classes occur."""
    target = np.asarray(target, bool)
    pos, neg = scores[target], scores[~target]
    if not len(pos) or not len(neg):
        return None
    order = np.argsort(np.concatenate([neg, pos]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([neg, pos])[order]
    # average ranks over ties, so a tie counts half
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2
    ranks[order] = np.repeat(mean_rank, counts)
    pos_ranks = ranks[len(neg):]
    return float((pos_ranks.sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def counts(scores: np.ndarray, target: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of ``scores >= threshold``."""
    target = np.asarray(target, bool)
    called = scores >= threshold
    return (int((called & target).sum()), int((called & ~target).sum()),
            int((~called & target).sum()))


def f1_of(tp: int, fp: int, fn: int) -> float:
    """F1 of the counts; 0 when nothing is positive or called."""
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def best_f1_threshold(scores: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) of the F1-optimal threshold: midway between the lowest score called
    positive and the next lower score (so new scores near the boundary fall the same way);
    :data:`DEFAULT_THRESHOLD` and F1 0 without a positive."""
    target = np.asarray(target, bool)
    if not target.any():
        return DEFAULT_THRESHOLD, 0.0
    values = np.unique(scores)[::-1]  # candidate lowest-called scores, high to low
    best_t, best_f1 = DEFAULT_THRESHOLD, -1.0
    for i, value in enumerate(values):
        f1 = f1_of(*counts(scores, target, value))
        if f1 > best_f1:
            below = values[i + 1] if i + 1 < len(values) else max(0.0, value - 1e-3)
            best_t, best_f1 = float((value + below) / 2), f1
    return best_t, best_f1


def precision_at_recall(scores: np.ndarray, target: np.ndarray, recall: float) -> float | None:
    """The best precision at a threshold whose recall is at least ``recall``; None without
    a positive."""
    target = np.asarray(target, bool)
    if not target.any():
        return None
    best = 0.0
    for value in np.unique(scores):
        tp, fp, fn = counts(scores, target, value)
        if tp / (tp + fn) >= recall:
            best = max(best, tp / (tp + fp))
    return best


def cascade_scores(parent: np.ndarray, child: np.ndarray) -> np.ndarray:
    """A cascade's scores for the child tag: the chance of the parent times the child net's
    chance given the parent (it trained on the parent's positives only)."""
    return np.asarray(parent) * np.asarray(child)


@dataclass(frozen=True)
class TagScores:
    """The tags of one recording.

    Attributes:
        tags: tag names, in the model's order.
        scores: (tags,) song scores in [0, 1] (chunk probabilities pooled).
        thresholds: (tags,) each tag's calibrated threshold.
        duration_s: length of the recording.
        model: the tagger's name.
        chunk_scores: (chunks, tags) each chunk's probabilities.
        starts_s: (chunks,) where each chunk starts.
    """

    tags: tuple[str, ...]
    scores: np.ndarray
    thresholds: np.ndarray
    duration_s: float
    model: str
    chunk_scores: np.ndarray
    starts_s: np.ndarray

    @property
    def present(self) -> np.ndarray:
        """(tags,) bool: each score at or above its tag's threshold."""
        return self.scores >= self.thresholds

    def ranked(self, top: int | None = None) -> list[dict[str, Any]]:
        """``[{"tag", "score", "present"}]`` by score, highest first (ties by tag order);
        the first ``top`` if given."""
        order = sorted(range(len(self.tags)), key=lambda i: (-float(self.scores[i]), i))
        present = self.present
        return [{"tag": self.tags[i], "score": round(float(self.scores[i]), 4),
                 "present": bool(present[i])} for i in order[:top]]

    def to_dict(self, file: str | None = None, *, top: int | None = None) -> dict[str, Any]:
        """``{"file", "model", "duration_s", "tags": [{"tag", "score", "present"}, ...]}``,
        tags sorted by score."""
        return {"file": file, "model": self.model, "duration_s": round(self.duration_s, 6),
                "tags": self.ranked(top)}


def thresholds_for(tags: Sequence[str], stored: Mapping[str, float] | None) -> np.ndarray:
    """(tags,) thresholds from a checkpoint's ``{tag: threshold}``; a tag without one
    gets :data:`DEFAULT_THRESHOLD`.

    Raises:
        ConfigError: a stored threshold for a tag the model does not have, or out of [0, 1].
    """
    stored = dict(stored or {})
    unknown = sorted(set(stored) - set(tags))
    if unknown:
        raise ConfigError(f"thresholds for unknown tag(s) {', '.join(unknown)}")
    values = np.array([float(stored.get(t, DEFAULT_THRESHOLD)) for t in tags])
    if ((values < 0) | (values > 1)).any():
        raise ConfigError(f"thresholds must lie in [0, 1], got {values.tolist()}")
    return values
