"""Karaoke assistance: where the original sings and the singer does not (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from cantata.types import Segment

MISSED = "missed"


def missed_singing(original: Sequence[Segment], take: Sequence[Segment], *,
                   min_s: float = 0.5, label: str = "vocal") -> list[Segment]:
    """Stretches where ``original`` has ``label`` regions and ``take`` has none.

    Args:
        original: regions detected in the original song.
        take: regions detected in the singer's take (same time axis).
        min_s: shorter stretches are not reported.
        label: the label compared.

    Returns:
        Segments labelled ``"missed"``, in time order.
    """
    sung = sorted((s.start_s, s.end_s) for s in take if s.label == label)
    out = []
    for region in sorted((s for s in original if s.label == label), key=lambda s: s.start_s):
        t = region.start_s
        for start, end in sung:
            if end <= t or start >= region.end_s:
                continue
            if start - t >= min_s:
                out.append(Segment(t, start, MISSED))
            t = max(t, end)
        if region.end_s - t >= min_s:
            out.append(Segment(t, region.end_s, MISSED))
    return out


def should_prompt(original: Sequence[Segment], *, now_s: float, silent_since_s: float | None,
                  after_s: float = 0.5, label: str = "vocal") -> bool:
    """Live: the original sings now and the singer has been silent for ``after_s``."""
    if silent_since_s is None or now_s - silent_since_s < after_s:
        return False
    return any(s.label == label and s.start_s <= now_s < s.end_s for s in original)
