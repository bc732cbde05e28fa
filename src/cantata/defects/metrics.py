"""How well defects are found: sed_eval-style event and segment scores, song ROC-AUC,
false alarms per hour. Pure numpy.

Events are anything with ``type``, ``start_s`` and ``end_s`` attributes
(:class:`~cantata.defects.rules.DefectEvent`) or mappings in the JSON shape of
``cantata defects`` (``{"type", "start", "end", ...}``; ``start_s``/``end_s`` keys also do).

- **Event-based** (:func:`event_counts`): per type, a reference and an estimate match when
  their onsets differ by at most the type's collar (:func:`onset_collar`: 20 ms for ``click``,
  100 ms otherwise) and, unless ``offset=False``, their offsets by at most
  ``max(collar, offset_fraction x reference length)`` (sed_eval's rule, fraction 0.5).
  Matching is one-to-one and maximal (bipartite matching), so two estimates near one
  reference are one true positive and one false positive.
- **Segment-based** (:func:`segment_counts`): the recording is cut into 1 s segments; a type
  is active in a segment when one of its events overlaps it; counts are over segments.
- **Song level** (:func:`roc_auc`): the area under the ROC curve of per-song scores against
  per-song labels (Mann-Whitney, ties counted half).
- **False alarms** (:func:`false_alarms_per_hour`): events per hour on clean material.

Counts add up over files (sum :class:`Counts`, then read precision, recall and F1), as
sed_eval accumulates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cantata.defects import DEFECT_TYPES
from cantata.errors import ConfigError

#: onset collar of ``click`` events (seconds)
CLICK_COLLAR_S = 0.02
#: onset collar of every other type (seconds)
DEFAULT_COLLAR_S = 0.1
#: offset tolerance as a fraction of the reference event's length (sed_eval's default)
OFFSET_FRACTION = 0.5

#: an event as the metrics see it: (type, start_s, end_s)
Span = tuple[str, float, float]


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives; they add up over files."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 0 when nothing was estimated."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 0 when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """2 tp / (2 tp + fp + fn); 1 when there was nothing to find and nothing was found."""
        total = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / total if total else 1.0

    def to_dict(self) -> dict[str, float]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4)}


def onset_collar(kind: str) -> float:
    """The onset collar of a type: 20 ms for ``click``, 100 ms otherwise."""
    return CLICK_COLLAR_S if kind == "click" else DEFAULT_COLLAR_S


def as_spans(events: Iterable[Any]) -> list[Span]:
    """``(type, start_s, end_s)`` of each event (an object or a JSON mapping).

    Raises:
        ConfigError: an event without a type, a start or an end, or ending before it starts.
    """
    spans = []
    for event in events:
        if isinstance(event, Mapping):
            kind = event.get("type")
            start = event.get("start", event.get("start_s"))
            end = event.get("end", event.get("end_s"))
        else:
            kind, start = getattr(event, "type", None), getattr(event, "start_s", None)
            end = getattr(event, "end_s", None)
        if kind is None or start is None or end is None or float(end) < float(start):
            raise ConfigError(f"not an event (type, start, end with end >= start): {event!r}")
        spans.append((str(kind), float(start), float(end)))
    return spans


# ---------------------------------------------------------------------------- event-based

def match_events(reference: Sequence[Span], estimated: Sequence[Span], *, collar_s: float,
                 offset: bool = True, offset_fraction: float = OFFSET_FRACTION
                 ) -> list[tuple[int, int]]:
    """The largest one-to-one matching of reference and estimated events (of one type).

    Returns:
        ``(reference index, estimate index)`` pairs, sorted by reference.
    """
    eps = 1e-9  # a collar's edge counts as inside, whatever the float rounding
    candidates = []
    for _, r_on, r_off in reference:
        tolerance = max(collar_s, offset_fraction * (r_off - r_on))
        valid = [(abs(e_on - r_on), e) for e, (_, e_on, e_off) in enumerate(estimated)
                 if abs(e_on - r_on) <= collar_s + eps
                 and (not offset or abs(e_off - r_off) <= tolerance + eps)]
        candidates.append([e for _, e in sorted(valid)])
    owner = [-1] * len(estimated)  # estimate -> its reference
    for r in range(len(reference)):
        _augment(r, candidates, owner)
    return sorted((r, e) for e, r in enumerate(owner) if r >= 0)


def _augment(root: int, candidates: list[list[int]], owner: list[int]) -> bool:
    """Find an augmenting path from reference ``root`` (Kuhn's algorithm, iteratively)."""
    seen: set[int] = set()
    stack, taken = [(root, iter(candidates[root]))], []
    while stack:
        _, options = stack[-1]
        for est in options:
            if est in seen:
                continue
            seen.add(est)
            taken.append(est)
            if owner[est] < 0:
                for (r, _), e in zip(stack, taken, strict=True):
                    owner[e] = r
                return True
            stack.append((owner[est], iter(candidates[owner[est]])))
            break
        else:
            stack.pop()
            if taken:
                taken.pop()
    return False


def event_counts(reference: Iterable[Any], estimated: Iterable[Any], *,
                 types: Sequence[str] = DEFECT_TYPES, offset: bool = True,
                 collars: Mapping[str, float] | None = None) -> dict[str, Counts]:
    """Event-based counts per type for one recording (see the module's docstring).

    Args:
        reference, estimated: the labelled and the detected events.
        types: the types to count; events of other types are ignored.
        offset: also require the offsets to match (sed_eval's ``evaluate_offset``).
        collars: onset collars by type, overriding :func:`onset_collar`.
    """
    ref, est = as_spans(reference), as_spans(estimated)
    counts = {}
    for kind in types:
        r = [s for s in ref if s[0] == kind]
        e = [s for s in est if s[0] == kind]
        collar = (collars or {}).get(kind, onset_collar(kind))
        tp = len(match_events(r, e, collar_s=collar, offset=offset))
        counts[kind] = Counts(tp, len(e) - tp, len(r) - tp)
    return counts


# ---------------------------------------------------------------------------- segment-based

def segment_counts(reference: Iterable[Any], estimated: Iterable[Any], duration_s: float, *,
                   types: Sequence[str] = DEFECT_TYPES, segment_s: float = 1.0
                   ) -> dict[str, Counts]:
    """Segment-based counts per type for one recording of ``duration_s`` seconds.

    A segment ``[k s, (k + 1) s)`` holds a type when an event of it overlaps the segment (a
    zero-length event holds the segment it lies in); the grid covers the recording and any
    event past its end.
    """
    ref, est = as_spans(reference), as_spans(estimated)
    last = max([duration_s] + [s[2] for s in ref + est])
    n_segments = max(1, int(np.ceil(last / segment_s - 1e-9)))
    counts = {}
    for kind in types:
        r = _activity([s for s in ref if s[0] == kind], n_segments, segment_s)
        e = _activity([s for s in est if s[0] == kind], n_segments, segment_s)
        counts[kind] = Counts(int(np.sum(r & e)), int(np.sum(e & ~r)), int(np.sum(r & ~e)))
    return counts


def _activity(spans: Sequence[Span], n_segments: int, segment_s: float) -> np.ndarray:
    active = np.zeros(n_segments, bool)
    for _, start, end in spans:
        first = int(np.floor(start / segment_s + 1e-9))
        stop = max(first + 1, int(np.ceil(end / segment_s - 1e-9)))
        active[first:stop] = True
    return active


def total(counts: Iterable[Mapping[str, Counts]]) -> dict[str, Counts]:
    """Counts of several recordings added up per type, plus ``"all"`` (micro-average)."""
    summed: dict[str, Counts] = {}
    for per_type in counts:
        for kind, c in per_type.items():
            summed[kind] = summed.get(kind, Counts()) + c
    summed["all"] = sum((c for k, c in summed.items() if k != "all"), Counts())
    return summed


# ---------------------------------------------------------------------------- song level

def roc_auc(labels: Sequence[bool] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve of per-song ``scores`` for binary ``labels`` (True: defective).

    Raises:
        ConfigError: labels and scores of different lengths, or only one class.
    """
    y, s = np.asarray(labels, bool), np.asarray(scores, np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ConfigError(f"{len(y)} labels but {len(s)} scores: give one score per song")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ConfigError("ROC-AUC needs defective and clean songs; got only one kind")
    _, inverse, tie_counts = np.unique(s, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(tie_counts) - (tie_counts - 1) / 2  # 1-based, ties averaged
    ranks = average_rank[inverse]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def false_alarms_per_hour(estimated: Iterable[Iterable[Any]], durations_s: Iterable[float], *,
                          types: Sequence[str] = DEFECT_TYPES) -> dict[str, float]:
    """Events per hour on clean recordings (every event is a false alarm), per type and
    ``"all"``.

    Args:
        estimated: the events detected in each clean recording.
        durations_s: the recordings' durations, in the same order.
        types: the types to count.

    Raises:
        ConfigError: no audio (a total duration of zero) or lists of different lengths.
    """
    per_file, durations = [as_spans(e) for e in estimated], [float(d) for d in durations_s]
    if len(per_file) != len(durations) or sum(durations) <= 0:
        raise ConfigError(f"{len(per_file)} event lists for {len(durations)} durations "
                          f"totalling {sum(durations):.1f} s: need one each and some audio")
    hours = sum(durations) / 3600
    counts = {kind: sum(s[0] == kind for spans in per_file for s in spans) for kind in types}
    counts["all"] = sum(counts.values())
    return {kind: n / hours for kind, n in counts.items()}
