"""Tag decisions: pooling, ROC-AUC, F1-optimal thresholds, precision at recall."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.errors import ConfigError
from cantata.tag.postprocess import (
    DEFAULT_THRESHOLD,
    TagScores,
    best_f1_threshold,
    cascade_scores,
    pool,
    precision_at_recall,
    roc_auc,
    thresholds_for,
)


def test_pool():
    probs = np.array([[0.2, 0.9], [0.4, 0.1]])
    assert pool(probs).tolist() == pytest.approx([0.3, 0.5])
    assert pool(probs, "max").tolist() == [0.4, 0.9]
    with pytest.raises(ConfigError):
        pool(probs, "median")
    with pytest.raises(ConfigError):
        pool(np.zeros((0, 2)))


def test_roc_auc_matches_pair_counting():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 40) / 4  # many ties
    target = rng.random(40) < 0.4
    pos, neg = scores[target], scores[~target]
    pairs = ((pos[:, None] > neg).sum() + 0.5 * (pos[:, None] == neg).sum()) / (len(pos) * len(neg))
    assert roc_auc(scores, target) == pytest.approx(pairs)
    assert roc_auc(scores, np.ones(40, bool)) is None


def test_f1_optimal_threshold_separates_and_lies_between_scores():
    scores = np.array([0.1, 0.3, 0.6, 0.8])
    threshold, f1 = best_f1_threshold(scores, np.array([0, 0, 1, 1], bool))
    assert f1 == 1.0 and threshold == pytest.approx(0.45)
    assert best_f1_threshold(scores, np.zeros(4, bool)) == (DEFAULT_THRESHOLD, 0.0)


def test_precision_at_recall():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    target = np.array([1, 0, 1, 0, 1], bool)
    assert precision_at_recall(scores, target, 0.6) == pytest.approx(2 / 3)
    assert precision_at_recall(scores, target, 1.0) == pytest.approx(3 / 5)
    assert precision_at_recall(scores, np.zeros(5, bool), 0.8) is None
    assert cascade_scores([0.5, 1.0], [0.5, 0.2]).tolist() == [0.25, 0.2]


def test_tag_scores_ranked_and_json():
    found = TagScores(("a", "b", "c"), np.array([0.2, 0.9, 0.2]), np.array([0.5, 0.5, 0.1]),
                      2.0, "m", np.zeros((1, 3)), np.zeros(1))
    assert found.present.tolist() == [False, True, True]
    assert found.to_dict("x.wav", top=2) == {
        "file": "x.wav", "model": "m", "duration_s": 2.0,
        "tags": [{"tag": "b", "score": 0.9, "present": True},
                 {"tag": "a", "score": 0.2, "present": False}]}


def test_thresholds_for():
    assert thresholds_for(("a", "b"), {"b": 0.2}).tolist() == [DEFAULT_THRESHOLD, 0.2]
    with pytest.raises(ConfigError, match="unknown tag"):
        thresholds_for(("a",), {"z": 0.2})
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        thresholds_for(("a",), {"a": 1.5})
