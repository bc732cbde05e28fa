"""Where each defect type's events come from, chosen and calibrated on validation events.

The learnt model and the rules (:mod:`cantata.defects.rules`) are good at different types:
a rule finds digital silence exactly, the model hears codec damage no rule describes. So
each type has a :class:`Decision`:

- ``model``: events from the model's frame probabilities above ``threshold`` (fused by
  :mod:`cantata.defects.postprocess`);
- ``rules``: the rule's events as they are;
- ``confirmed``: the rule's events that the model backs: its probability for the type
  reaches ``confirm`` somewhere within ``CONFIRM_PAD_S`` of the event (the rule proposes,
  the model, which hears the context, rejects the square wave's "jump" or the snare's
  "click");
- ``verified`` (clicks and discontinuities, with a model that has a candidate verifier):
  the residual outliers whose verifier probability for the type reaches ``confirm``,
  merged into events (:mod:`cantata.defects.verifier`).

:func:`calibrate_decisions` chooses each type's decision and its levels for the best
event F1 (:mod:`cantata.defects.metrics`) over a validation set: clips with strong labels,
clean clips among them, whose events are all false alarms and count as often as a
catalog's share of clean music says (:func:`clean_weight_for`). Pure numpy; no model here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from cantata.defects import metrics
from cantata.defects.postprocess import FusionConfig, calibrate, frames_to_events
from cantata.defects.rules import RULES, DefectEvent
from cantata.defects.verifier import merge_peaks
from cantata.errors import ConfigError

SOURCES = ("model", "rules", "confirmed", "verified")
#: how far around a rule's event the model's probability is looked at (seconds)
CONFIRM_PAD_S = 0.05
#: shortest model events tried (seconds): a blip of a frame or two is often no defect
MIN_EVENTS_S = (0.0, 0.05, 0.2)
#: probability levels tried for a threshold (as quantiles of the validation frames too)
LEVELS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
#: verifier probabilities tried for ``verified`` (a catalog is mostly clean: the high end
#: matters)
VERIFY_LEVELS = (*LEVELS, 0.995, 0.998, 0.999)


@dataclass(frozen=True)
class Decision:
    """How one type's events are made.

    Attributes:
        source: ``"model"``, ``"rules"``, ``"confirmed"`` or ``"verified"`` (see the
            module doc).
        threshold: the model's frame probability an event rises above (``model``).
        confirm: the model's probability a rule event needs nearby (``confirmed``), or the
            verifier's a candidate needs (``verified``).
        min_event_s: a ``model`` event shorter than this is dropped (0: the fusion's own).
    """

    source: Literal["model", "rules", "confirmed", "verified"] = "model"
    threshold: float = 0.5
    confirm: float = 0.5
    min_event_s: float = 0.0

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError(f"decision source must be one of {', '.join(SOURCES)}, "
                              f"got {self.source!r}")
        if not (0 < self.threshold < 1 and 0 <= self.confirm < 1 and self.min_event_s >= 0):
            raise ConfigError(f"need 0 < threshold < 1, 0 <= confirm < 1 and min_event_s >= 0, "
                              f"got {self.threshold}, {self.confirm}, {self.min_event_s}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(**{k: data[k] for k in ("source", "threshold", "confirm", "min_event_s")
                      if k in data})


@dataclass(frozen=True)
class Clip:
    """One validation clip: what the model and the rules said, and the truth.

    Attributes:
        probs: (types, frames) the model's raw frame probabilities.
        rule_events: the rules' events.
        reference: the labelled events.
        duration_s: its length.
        peaks: the candidate verifier's scored candidates (:mod:`cantata.defects.verifier`).
    """

    probs: np.ndarray
    rule_events: Sequence[DefectEvent]
    reference: Sequence[DefectEvent]
    duration_s: float
    peaks: Sequence[DefectEvent] = ()


def confirmed(events: Sequence[DefectEvent], probs: np.ndarray, *, hop_s: float,
              level: float, pad_s: float = CONFIRM_PAD_S) -> list[DefectEvent]:
    """The events whose ``probs`` (frames,) reach ``level`` within ``pad_s`` of them;
    frame i is centred on ``i * hop_s``."""
    kept = []
    for e in events:
        lo = max(0, int(np.floor((e.start_s - pad_s) / hop_s)))
        hi = min(len(probs), int(np.ceil((e.end_s + pad_s) / hop_s)) + 1)
        if hi > lo and float(probs[lo:hi].max()) >= level:
            kept.append(e)
    return kept


def events_of(decision: Decision, name: str, probs: np.ndarray,
              rule_events: Sequence[DefectEvent], *, hop_s: float, duration_s: float,
              fusion: FusionConfig, peaks: Sequence[DefectEvent] = ()) -> list[DefectEvent]:
    """One type's events under ``decision``, from its (frames,) probabilities calibrated
    with ``decision.threshold`` (:func:`calibrated`), the rules' events (of any type) and
    the verifier's scored candidates (``peaks``)."""
    if decision.source == "verified":
        return merge_peaks([p for p in peaks if p.type == name], decision.confirm)
    own = [e for e in rule_events if e.type == name]
    if decision.source == "rules":
        return own
    if decision.source == "confirmed":
        return confirmed(own, probs, hop_s=hop_s, level=decision.confirm)
    if decision.min_event_s > fusion.min_event_s:
        fusion = replace(fusion, min_event_s=decision.min_event_s)
    return frames_to_events(probs[None], types=(name,), hop_s=hop_s, duration_s=duration_s,
                            config=fusion)


def calibrated(probs: np.ndarray, decisions: Sequence[Decision]) -> np.ndarray:
    """(..., types, frames) raw probabilities with each type's ``threshold`` mapped to 0.5
    (the fusion's ``on``); a ``rules`` or ``confirmed`` type keeps the default threshold
    0.5, so its probabilities stay as they are, the level ``confirm`` is read on."""
    return calibrate(probs, np.array([d.threshold for d in decisions]))


def song_score(events: Sequence[DefectEvent], probs: np.ndarray, types: Sequence[str],
               decisions: Sequence[Decision]) -> float:
    """A song's defect score in [0, 1] (for ranking songs): the highest, over types, of a
    model type's calibrated frame probability, and for a type made otherwise (rules,
    confirmed, verified), 0.5 + half the best confidence of its events, or without them
    half the model's highest probability for it (songs without events still rank by what
    the model heard: validation song ROC-AUC 0.937 -> 0.959); ``probs`` (types, frames)
    calibrated."""
    scores = [0.0]
    for row, (name, decision) in enumerate(zip(types, decisions, strict=True)):
        heard = float(probs[row].max()) if probs.shape[-1] else 0.0
        if decision.source == "model":
            scores.append(heard)
        else:
            scores += [0.5 * heard] + [0.5 + 0.5 * e.confidence for e in events if e.type == name]
    return max(scores)


def calibrate_decisions(clips: Sequence[Clip], types: Sequence[str], *, hop_s: float,
                        fusion: FusionConfig | None = None, clean_weight: float = 1.0
                        ) -> tuple[dict[str, Decision], dict[str, dict[str, Any]]]:
    """Each type's best decision on ``clips`` by event F1 (ties: fewer false events; then
    the middle one of the tied candidates, in the order :func:`candidates` gives).

    A false event on a clean clip (one without any labelled event) counts ``clean_weight``
    times: a validation set is mostly defective, a catalog mostly clean (see
    :func:`clean_weight_for`).

    Returns:
        The decisions, and per type the scores behind them, for the record:
        ``{type: {"chosen": {...}, "model_only": {...}, "candidates": [...]}}``, each a
        decision's fields with its ``tp``, ``fp``, ``fn``, ``precision``, ``recall``,
        ``f1`` (unweighted) and ``weighted_f1`` (what chose it); ``model_only`` is the best
        decision using the model alone.

    Raises:
        ConfigError: no clips.
    """
    if not clips:
        raise ConfigError("no validation clips to calibrate the defect decisions on")
    fusion = fusion or FusionConfig()
    decisions, record = {}, {}
    for row, name in enumerate(types):
        scored = [(d, _score(d, name, row, clips, hop_s=hop_s, fusion=fusion,
                             clean_weight=clean_weight))
                  for d in candidates(name, [c.probs[row] for c in clips],
                                      verified=any(p.type == name for c in clips
                                                   for p in c.peaks))]
        best, counts = _middle_best(scored)
        decisions[name] = best
        model_only = _middle_best([dc for dc in scored if dc[0].source == "model"])
        record[name] = {"chosen": {**best.to_dict(), **counts.to_dict()},
                        "model_only": {**model_only[0].to_dict(), **model_only[1].to_dict()},
                        "candidates": [{**d.to_dict(), **c.to_dict()} for d, c in scored]}
    return decisions, record


@dataclass(frozen=True)
class Score:
    """A candidate's counts over the validation clips, and its false events on clean clips
    weighted (``weighted_fp``: the others once, those ``clean_weight`` times)."""

    counts: metrics.Counts
    weighted_fp: float

    @property
    def f1(self) -> float:
        """The event F1 with the weighted false events (1 when nothing to find or found)."""
        total = 2 * self.counts.tp + self.weighted_fp + self.counts.fn
        return 2 * self.counts.tp / total if total else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {**self.counts.to_dict(), "weighted_f1": round(self.f1, 4)}


def clean_weight_for(clips: Sequence[Clip], catalog_clean_share: float) -> float:
    """How many times a false event on a clean clip counts, so that the clean share of the
    validation audio (by duration) weighs as ``catalog_clean_share`` would: the ratio of
    the odds; 1 when the clips are all clean or all defective."""
    clean = sum(c.duration_s for c in clips if not c.reference)
    total = sum(c.duration_s for c in clips)
    if not 0 < clean < total or not 0 < catalog_clean_share < 1:
        return 1.0
    return (catalog_clean_share / (1 - catalog_clean_share)) / (clean / (total - clean))


def _middle_best(scored: list[tuple[Decision, Score]]) -> tuple[Decision, Score]:
    """The best by (weighted) event F1, then fewer false events; of ties, the middle one
    (the middle of a plateau of levels: the safest)."""
    top = max((c.f1, -c.weighted_fp) for _, c in scored)
    ties = [dc for dc in scored if (dc[1].f1, -dc[1].weighted_fp) == top]
    return ties[len(ties) // 2]


def candidates(name: str, probs: Sequence[np.ndarray], *, verified: bool = False
               ) -> list[Decision]:
    """The decisions tried for one type: model thresholds at fixed levels and at quantiles
    of its validation frames, each with every shortest event of :data:`MIN_EVENTS_S`; the
    rules, and the rules confirmed at those levels, where a rule finds the type; the
    verifier's candidates at :data:`VERIFY_LEVELS` where ``verified``."""
    frames = np.concatenate([p.ravel() for p in probs]) if probs else np.zeros(1)
    quantiles = np.quantile(frames, (0.9, 0.97, 0.99, 0.995, 0.999, 0.9995)) if frames.size else []
    levels = sorted({round(float(v), 4) for v in (*LEVELS, *quantiles) if 0.001 < v < 0.999})
    tried = [Decision("model", threshold=v, min_event_s=m) for m in MIN_EVENTS_S for v in levels]
    if name in RULES:
        tried.append(Decision("rules"))
        tried += [Decision("confirmed", confirm=v) for v in levels]
    if verified:
        tried += [Decision("verified", confirm=v) for v in VERIFY_LEVELS]
    return tried


def _score(decision: Decision, name: str, row: int, clips: Sequence[Clip], *, hop_s: float,
           fusion: FusionConfig, clean_weight: float) -> Score:
    total, weighted_fp = metrics.Counts(), 0.0
    for clip in clips:
        probs = calibrate(clip.probs[row][None], np.array([decision.threshold]))[0]
        estimated = events_of(decision, name, probs, clip.rule_events, hop_s=hop_s,
                              duration_s=clip.duration_s, fusion=fusion, peaks=clip.peaks)
        reference = [e for e in clip.reference if e.type == name]
        counts = metrics.event_counts(reference, estimated, types=(name,))[name]
        total = total + counts
        weighted_fp += counts.fp * (1.0 if clip.reference else clean_weight)
    return Score(total, weighted_fp)
