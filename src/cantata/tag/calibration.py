"""Per-tag thresholds for a trained tagger, chosen on validation recordings.

A distilled tagger is calibrated against the honest labels where a recording has them
and the teacher's decisions elsewhere (:func:`cantata.tag.labels.item_truth`).

Each validation recording is tagged as inference tags it (every chunk, pooled), and each
tag's threshold is the F1-optimal one on those song scores
(:func:`cantata.tag.postprocess.best_f1_threshold`). The thresholds go into the
checkpoint (``meta["thresholds"]``), with the figures they reach there
(``meta["calibration"]``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from cantata.models.registry import load_checkpoint, save_checkpoint
from cantata.tag.api import Tagger
from cantata.tag.labels import TagItem, item_truth
from cantata.tag.postprocess import best_f1_threshold, counts, roc_auc


def song_scores(tagger: Tagger, items: Sequence[TagItem]) -> tuple[np.ndarray, np.ndarray]:
    """(recordings, tags) song scores and (recordings, tags) bool targets."""
    scores = np.stack([tagger.tag(item.audio).scores for item in items])
    targets = np.stack([item_truth(item, tagger.tags) for item in items])
    return scores, targets


def calibrate(scores: np.ndarray, targets: np.ndarray, tags: Sequence[str]
              ) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    """Each tag's F1-optimal threshold, and per tag ``{"threshold", "f1", "precision",
    "recall", "roc_auc", "positives"}`` at it (``roc_auc`` None where one class is
    missing)."""
    thresholds, record = {}, {}
    for i, name in enumerate(tags):
        threshold, f1 = best_f1_threshold(scores[:, i], targets[:, i])
        tp, fp, fn = counts(scores[:, i], targets[:, i], threshold)
        thresholds[name] = round(threshold, 6)
        record[name] = {"threshold": round(threshold, 6), "f1": round(f1, 4),
                        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
                        "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
                        "roc_auc": roc_auc(scores[:, i], targets[:, i]),
                        "positives": int(targets[:, i].sum())}
    return thresholds, record


def calibrate_checkpoint(path: str | os.PathLike[str], items: Sequence[TagItem]
                         ) -> dict[str, Any]:
    """Write the thresholds calibrated on ``items`` into the checkpoint at ``path``;
    returns ``meta["calibration"]``."""
    model, checkpoint = load_checkpoint(path)
    tagger = Tagger(model, name=str(path))
    scores, targets = song_scores(tagger, items)
    thresholds, record = calibrate(scores, targets, tagger.tags)
    calibration = {"recordings": len(items), "tags": record}
    meta = {**checkpoint.meta, "thresholds": thresholds, "calibration": calibration}
    save_checkpoint(path, model, name=checkpoint.name, config=checkpoint.config, meta=meta)
    return calibration
