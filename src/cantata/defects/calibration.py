"""Calibrate a trained defect detector's decisions on validation clips, into its checkpoint.

After training, every strongly labelled validation clip (its events known, as ``cantata
data synth defects`` makes them; clean clips too) is run through the model and the rules;
:func:`cantata.defects.decision.calibrate_decisions` picks each type's source and levels
for the best event F1, and the checkpoint is rewritten with them in ``meta["decision"]``
(where :meth:`DefectDetector.from_pretrained` reads them) and the scores behind the choice
in ``meta["calibration"]`` (``types``: the chosen decision's scores; ``model_only``: the
best decision of the model alone, for comparison).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from cantata.data.records import Example
from cantata.data.sources.defect_labels import has_strong
from cantata.defects.api import DefectDetector
from cantata.defects.decision import Clip, Decision, calibrate_decisions, clean_weight_for
from cantata.defects.rules import RULES, DefectEvent
from cantata.models.registry import load_checkpoint, save_checkpoint

log = logging.getLogger(__name__)


def reference_events(example: Example) -> list[DefectEvent]:
    """A strongly labelled clip's events (its regions, labelled by type)."""
    return [DefectEvent(seg.label, seg.start_s, seg.end_s) for seg in example.regions]


def validation_clips(detector: DefectDetector, examples: Sequence[Example]) -> list[Clip]:
    """What ``detector``'s model and every rule say on each strongly labelled example.

    ``detector`` must keep the raw probabilities (a threshold of 0.5 for every type), run
    the rules of every type a rule finds and, with a candidate verifier, verify (see
    :func:`calibrate_checkpoint`).
    """
    clips = []
    for example in examples:
        if has_strong(example) and example.audio is not None:
            frames = detector.frame_probs(example.audio)
            clips.append(Clip(frames.probs, frames.rule_events, reference_events(example),
                              frames.duration_s, frames.peaks))
    return clips


#: the share of clean audio a catalog is taken to hold when weighing false events
CATALOG_CLEAN_SHARE = 0.8


def calibrate_checkpoint(path: str | os.PathLike[str], examples: Sequence[Example], *,
                         catalog_clean_share: float = CATALOG_CLEAN_SHARE
                         ) -> dict[str, Any] | None:
    """Choose the decisions of the detector in ``path`` on ``examples`` and write them into
    the checkpoint; returns ``meta["calibration"]``, or None (the checkpoint untouched)
    when no example has strong labels. False events on clean clips weigh as if clean
    music were ``catalog_clean_share`` of the audio (:func:`clean_weight_for`).
    """
    model, checkpoint = load_checkpoint(path)
    types = tuple(model.config.types)
    probe = DefectDetector(model, decisions={t: Decision("confirmed") for t in types
                                             if t in RULES},
                           verify=getattr(model, "verifier", None) is not None)
    clips = validation_clips(probe, examples)
    if not clips:
        log.warning("%s: no strongly labelled validation clip; the decisions stay the "
                    "clip-level thresholds", path)
        return None
    weight = clean_weight_for(clips, catalog_clean_share)
    decisions, record = calibrate_decisions(clips, types, hop_s=probe.hop_s, fusion=probe.fusion,
                                            clean_weight=weight)
    calibration = {"clips": len(clips), "fusion": probe.fusion.rule,
                   "catalog_clean_share": catalog_clean_share, "clean_weight": round(weight, 3),
                   "types": {t: record[t]["chosen"] for t in types},
                   "model_only": {t: record[t]["model_only"] for t in types}}
    meta = {**checkpoint.meta, "decision": {t: d.to_dict() for t, d in decisions.items()},
            "calibration": calibration}
    save_checkpoint(path, model, name=checkpoint.name, config=checkpoint.config, meta=meta)
    return calibration
