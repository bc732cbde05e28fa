"""Frame probabilities -> defect events -> a song verdict: pure decisions, no model.

Two fusion rules turn one type's frame probabilities (calibrated, so that 0.5 is the
type's decision threshold) into events:

- ``threshold``: frames above ``on``; runs closer than ``merge_gap_s`` merged, runs
  shorter than ``min_event_s`` dropped.
- ``hysteresis``: a double threshold (Schmitt trigger): an event starts above ``on`` and
  lasts until the probability falls below ``off``, so one defect whose probability
  wavers around ``on`` stays one event; then the same merge and minimum length.

An event (:class:`~cantata.defects.rules.DefectEvent`, as the rule detectors give) has
its highest frame probability as its confidence. The song verdict counts the
events per type; the song is defective when it has any (its score, for ranking songs, is
:func:`cantata.defects.decision.song_score`).

Times follow :mod:`cantata.regions`: frame i is centred on ``i * hop_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cantata.defects.rules import DefectEvent
from cantata.errors import ConfigError
from cantata.regions import clean_runs, hysteresis, run_span_s, runs

RULES = ("threshold", "hysteresis")


@dataclass(frozen=True)
class FusionConfig:
    """How frame probabilities become events.

    Attributes:
        rule: ``"threshold"`` or ``"hysteresis"``.
        on: an event's frames rise above this (0.5 = each type's calibrated threshold).
        off: ``hysteresis`` only: an event ends below this (<= ``on``).
        merge_gap_s: gaps shorter than this between two events of a type are bridged.
        min_event_s: events shorter than this are dropped (0: one frame is enough, as for
            a click).
    """

    rule: Literal["threshold", "hysteresis"] = "hysteresis"
    on: float = 0.5
    off: float = 0.3
    merge_gap_s: float = 0.05
    min_event_s: float = 0.0

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ConfigError(f"fusion rule must be one of {', '.join(RULES)}, got {self.rule!r}")
        if not 0.0 <= self.off <= self.on <= 1.0:
            raise ConfigError(f"need 0 <= off <= on <= 1, got off={self.off}, on={self.on}")
        if self.merge_gap_s < 0 or self.min_event_s < 0:
            raise ConfigError("merge_gap_s and min_event_s must be >= 0")


@dataclass(frozen=True)
class Verdict:
    """The song-level decision.

    Attributes:
        defective: it has at least one event.
        types: events per type, every type named (0 for none).
        score: the highest frame probability of any type (0 for an empty recording).
    """

    defective: bool
    types: dict[str, int]
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"defective": self.defective, "types": dict(self.types),
                "score": round(self.score, 4)}


def calibrate(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Map each type's decision threshold to 0.5, piecewise linearly (monotone);
    (..., types, frames) with ``thresholds`` (types,) -> same shape, float32."""
    t = np.asarray(thresholds, np.float64)[:, None]
    low = 0.5 * probs / t
    high = 0.5 + 0.5 * (probs - t) / (1 - t)
    return np.where(probs <= t, low, high).astype(np.float32)


def active_frames(probs: np.ndarray, *, hop_s: float, config: FusionConfig) -> np.ndarray:
    """The frames inside events of one type; (frames,) probabilities -> (frames,) bool."""
    if config.rule == "hysteresis":
        active = hysteresis(probs, on_db=config.on, off_db=config.off)
    else:
        active = probs > config.on
    return clean_runs(active, min_gap_frames=round(config.merge_gap_s / hop_s),
                      min_region_frames=max(1, round(config.min_event_s / hop_s)))


def frames_to_events(probs: np.ndarray, *, types: Sequence[str], hop_s: float,
                     duration_s: float | None = None,
                     config: FusionConfig = FusionConfig()) -> list[DefectEvent]:
    """Events of every type, in time order (then type order).

    Args:
        probs: (types, frames) calibrated probabilities; frame i centred on ``i * hop_s``.
        types: the row names.
        hop_s: frame hop in seconds.
        duration_s: the recording's length (events are clipped to it).
        config: the fusion rule.
    """
    if probs.shape[0] != len(types):
        raise ConfigError(f"{probs.shape[0]} rows of probabilities for {len(types)} types")
    events = []
    for row, name in zip(probs, types, strict=True):
        for start, stop in runs(active_frames(row, hop_s=hop_s, config=config)):
            start_s, end_s = run_span_s(start, stop, hop_s=hop_s, duration_s=duration_s)
            if end_s > start_s:
                events.append(DefectEvent(name, start_s, end_s, float(row[start:stop].max())))
    return sorted(events, key=lambda e: (e.start_s, types.index(e.type)))


def verdict(events: Sequence[DefectEvent], *, types: Sequence[str], score: float) -> Verdict:
    """The song verdict of its events, with its ``score`` (how it ranks among songs)."""
    counts = {name: 0 for name in types}
    for event in events:
        counts[event.type] += 1
    return Verdict(bool(events), counts, score)
