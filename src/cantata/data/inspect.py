"""Summaries of a folder of training material: totals and label balance."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cantata.data.records import Example


@dataclass(frozen=True)
class Summary:
    """Totals of a manifest.

    Attributes:
        n_examples: number of examples.
        hours: total duration.
        n_groups: distinct groups (singers, speakers, songs).
        sources: examples per source collection.
        label_fraction: per label, the fraction of all time it covers.
    """

    n_examples: int
    hours: float
    n_groups: int
    sources: dict[str, int]
    label_fraction: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return {"examples": self.n_examples, "hours": round(self.hours, 4),
                "groups": self.n_groups, "sources": self.sources,
                "label_fraction": {k: round(v, 4) for k, v in self.label_fraction.items()}}


def summarize(examples: Sequence[Example]) -> Summary:
    total_s = sum(ex.duration_s for ex in examples)
    covered: Counter[str] = Counter()
    for ex in examples:
        for label in {seg.label for seg in ex.regions}:
            covered[label] += _union_s([(s.start_s, s.end_s) for s in ex.regions
                                        if s.label == label])
    return Summary(
        n_examples=len(examples), hours=total_s / 3600,
        n_groups=len({ex.group for ex in examples}),
        sources=dict(Counter(ex.source for ex in examples)),
        label_fraction={k: v / total_s for k, v in sorted(covered.items())} if total_s else {},
    )


def _union_s(spans: list[tuple[float, float]]) -> float:
    """Total length covered by possibly overlapping spans."""
    if not spans:
        return 0.0
    spans_arr = np.array(sorted(spans))
    total, (cur_start, cur_end) = 0.0, spans_arr[0]
    for start, end in spans_arr[1:]:
        if start > cur_end:
            total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    return float(total + cur_end - cur_start)
