"""Frames <-> regions: the pure decisions shared by labelling and detection.

A frame-wise activity (bool per frame) becomes labelled regions and back; a Schmitt
trigger (hysteresis) turns a level or a probability into activity; short gaps are
bridged and short blips dropped. No model, no audio: arrays in, arrays out.

One frame-time convention holds everywhere: frame i is centred on ``offset_s + i * hop_s``
(``offset_s`` is 0 unless said otherwise), so it stands for the stretch within half a hop
of its centre, and a run of frames [a, b) spans
``[offset_s + (a - 1/2) * hop_s, offset_s + (b - 1/2) * hop_s)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cantata.types import Segment


def hysteresis(level_db: np.ndarray, *, on_db: float, off_db: float) -> np.ndarray:
    """Schmitt trigger: active from a frame above ``on_db`` until one below ``off_db``.

    Shape: (frames,) -> (frames,) bool.
    """
    above_on, below_off = level_db > on_db, level_db < off_db
    state = np.zeros(len(level_db), dtype=bool)
    active = False
    for i in range(len(level_db)):
        active = above_on[i] or (active and not below_off[i])
        state[i] = active
    return state


def clean_runs(active: np.ndarray, *, min_gap_frames: int, min_region_frames: int) -> np.ndarray:
    """Bridge short gaps inside activity, then drop short active runs. (frames,) bool."""
    out = active.copy()
    for start, stop in runs(~out):
        if 0 < start and stop < len(out) and stop - start < min_gap_frames:
            out[start:stop] = True
    for start, stop in runs(out):
        if stop - start < min_region_frames:
            out[start:stop] = False
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Frame indices (start, stop) of every run of True, in order; (frames,) bool in."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return [(int(a), int(b)) for a, b in zip(np.flatnonzero(edges == 1),
                                             np.flatnonzero(edges == -1), strict=True)]


def run_span_s(start: int, stop: int, *, hop_s: float, offset_s: float = 0.0,
               duration_s: float | None = None) -> tuple[float, float]:
    """Seconds spanned by frames [start, stop), frame i centred on ``offset_s + i * hop_s``:
    from half a hop before the first centre to half a hop after the last, clipped to
    [0, ``duration_s``] (no upper clip when it is None). Rounded to the nanosecond, so
    that float noise (1.8900000000000001) stays out of results."""
    start_s = max(0.0, round(offset_s + (start - 0.5) * hop_s, 9))
    end_s = round(offset_s + (stop - 0.5) * hop_s, 9)
    return start_s, end_s if duration_s is None else min(end_s, duration_s)


def frames_to_segments(active: np.ndarray, *, hop_s: float, label: str,
                       duration_s: float | None = None, offset_s: float = 0.0) -> list[Segment]:
    """Runs of active frames as segments (see :func:`run_span_s`); empty ones are dropped.

    Args:
        active: (frames,) bool; frame i is centred on ``offset_s + i * hop_s``.
        hop_s: frame hop in seconds.
        label: the segments' label.
        duration_s: clip segments to [0, duration_s] (the audio's length).
        offset_s: time of frame 0's centre.
    """
    segments = []
    for start, stop in runs(active):
        start_s, end_s = run_span_s(start, stop, hop_s=hop_s, offset_s=offset_s,
                                    duration_s=duration_s)
        if end_s > start_s:
            segments.append(Segment(start_s, end_s, label))
    return segments


def segments_to_frames(segments: Sequence[Segment], *, labels: Sequence[str], n_frames: int,
                       hop_s: float, offset_s: float = 0.0) -> np.ndarray:
    """Rasterise segments into a frame matrix; a frame is on if its centre is inside
    (the inverse of :func:`frames_to_segments` up to half a hop).

    Args:
        segments: labelled regions (labels not in ``labels`` are ignored).
        labels: row order of the output.
        n_frames: number of frames; frame i is centred on ``offset_s + i * hop_s``.
        hop_s: frame hop in seconds.
        offset_s: time of frame 0 (for a crop that starts inside a recording).

    Returns:
        bool array, shape (len(labels), n_frames).
    """
    centres = offset_s + np.arange(n_frames) * hop_s
    out = np.zeros((len(labels), n_frames), dtype=bool)
    row = {label: i for i, label in enumerate(labels)}
    for seg in segments:
        if seg.label in row:
            out[row[seg.label]] |= (centres >= seg.start_s) & (centres < seg.end_s)
    return out
