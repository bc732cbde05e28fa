"""Per-tag thresholds for a trained tagger, chosen on validation recordings.

With ``data.lyrics``, late-fusion lyrics heads are fitted on the training recordings'
lyrics too (:func:`attach_lyrics_heads`). A distilled tagger is calibrated against the
honest labels where a recording has them and the teacher's decisions elsewhere
(:func:`cantata.tag.labels.item_truth`).

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

from cantata.errors import ConfigError
from cantata.models.registry import load_checkpoint, save_checkpoint
from cantata.tag.api import Tagger
from cantata.tag.labels import TagItem, item_truth
from cantata.tag.lyrics import TextEncoder, embed_lyrics, fit_lyrics_heads, lyrics_for
from cantata.tag.postprocess import best_f1_threshold, counts, roc_auc


def song_scores(tagger: Tagger, items: Sequence[TagItem], decision: float = 0.5
                ) -> tuple[np.ndarray, np.ndarray]:
    """(recordings, tags) song scores and (recordings, tags) bool targets (a teacher's
    decisions at ``decision`` when distilling)."""
    scores = np.stack([tagger.tag(item.audio).scores for item in items])
    targets = np.stack([item_truth(item, tagger.tags, decision) for item in items])
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


def calibrate_checkpoint(path: str | os.PathLike[str], items: Sequence[TagItem],
                         decision: float = 0.5) -> dict[str, Any]:
    """Write the thresholds calibrated on ``items`` (against a teacher's decisions at
    ``decision`` when distilling) into the checkpoint at ``path``; returns
    ``meta["calibration"]``."""
    model, checkpoint = load_checkpoint(path)
    tagger = Tagger(model, name=str(path))
    scores, targets = song_scores(tagger, items, decision)
    thresholds, record = calibrate(scores, targets, tagger.tags)
    calibration = {"recordings": len(items), "tags": record}
    meta = {**checkpoint.meta, "thresholds": thresholds, "calibration": calibration}
    save_checkpoint(path, model, name=checkpoint.name, config=checkpoint.config, meta=meta)
    return calibration


def attach_lyrics_heads(path: str | os.PathLike[str], items: Sequence[TagItem],
                        encoder: TextEncoder | None = None, *, decision: float = 0.5,
                        min_class: int = 3) -> dict[str, Any]:
    """Fit late-fusion lyrics heads (:func:`cantata.tag.lyrics.fit_lyrics_heads`) on the
    recordings of ``items`` that have lyrics (the labels' ``lyrics`` column, else the
    ``.txt`` beside the audio), for every tag with at least ``min_class`` of them on each
    side, and write them into the checkpoint at ``path`` (``meta["lyrics_heads"]``, and
    ``meta["lyrics"]``: what they learnt from); returns ``meta["lyrics"]``.

    Raises:
        ConfigError: fewer than ``2 * min_class`` recordings with lyrics, or no tag with
            enough of both classes among them.
        CantataError: no ``encoder`` given and wordllama not installed.
    """
    model, checkpoint = load_checkpoint(path)
    tags = tuple(model.config.tags)
    found = [(item, text) for item in items
             if (text := lyrics_for(item.audio, item.lyrics)) is not None]
    if len(found) < 2 * min_class:
        raise ConfigError(f"data.lyrics: only {len(found)} training recordings have lyrics "
                          f"(a lyrics column or a .txt beside the audio); need "
                          f"{2 * min_class}")
    truth = np.stack([item_truth(item, tags, decision) for item, _ in found])
    counts = truth.sum(axis=0)
    chosen = [i for i, n in enumerate(counts) if min_class <= n <= len(found) - min_class]
    if not chosen:
        raise ConfigError(f"data.lyrics: no tag has {min_class} recordings with lyrics on "
                          f"each side (with it and without it)")
    embeddings = embed_lyrics([text for _, text in found], encoder)
    heads = fit_lyrics_heads(embeddings, {tags[i]: truth[:, i] for i in chosen})
    record = {"recordings": len(found), "tags": [tags[i] for i in chosen]}
    meta = {**checkpoint.meta, "lyrics_heads": heads.to_meta(), "lyrics": record}
    save_checkpoint(path, model, name=checkpoint.name, config=checkpoint.config, meta=meta)
    return record
