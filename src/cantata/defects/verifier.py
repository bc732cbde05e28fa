"""Clicks and jumps judged one at a time: residual outliers scored by the detector's
candidate verifier.

The click and jump rules (:func:`cantata.defects.rules.click`, :func:`~cantata.defects.
rules.discontinuity`) decide by hand-set tests whether a residual outlier or a large first
difference is a defect; the verifier (:class:`~cantata.models.defect_detector.
CandidateVerifier`) learns it. Every residual outlier over a low threshold is a candidate
(:func:`cantata.audio.clicks.click_candidates`, at the file's own rate, every channel: a
click, the step of a skip or of a repeated block, or a sharp sound of the music), the
verifier gives it a probability per type, and the candidates over a level, merged as the
rules merge their events (a crackle train, a block repeated several times: one event), are
the ``verified`` decision's events (:mod:`cantata.defects.decision`).

Example:
    >>> peaks = scored_peaks(wave, detector.model.verifier)          # doctest: +SKIP
    >>> clicks = merge_peaks([p for p in peaks if p.type == "click"], level=0.9)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from cantata.audio.clicks import click_candidates
from cantata.defects.rules import DefectEvent, as_channels, merge_events
from cantata.models.defect_detector import CandidateVerifier
from cantata.types import Waveform

#: verified candidates of a type closer than this are one event (as the rules merge)
MERGE_S = {"click": 0.5, "discontinuity": 0.2}


def scored_peaks(src: Waveform | np.ndarray, verifier: CandidateVerifier,
                 sample_rate: int | None = None) -> list[DefectEvent]:
    """Every candidate of the audio as one-sample events, one per type the verifier knows,
    each with the verifier's probability for that type as its confidence; sorted by time."""
    samples, sr = as_channels(src, sample_rate)
    at, features = click_candidates(samples, sr)
    if not len(at):
        return []
    with torch.inference_mode():
        probs = torch.sigmoid(verifier(torch.from_numpy(features))).numpy()
    return [DefectEvent(name, n / sr, (n + 1) / sr, float(p))
            for n, row in zip(at, probs, strict=True)
            for name, p in zip(verifier.types, row, strict=True)]


def merge_peaks(peaks: Sequence[DefectEvent], level: float, *, merge_s: float | None = None
                ) -> list[DefectEvent]:
    """The peaks (of one type) whose confidence reaches ``level``, those closer than
    ``merge_s`` (default: the type's :data:`MERGE_S`) joined into one event (its
    confidence: the highest)."""
    kept = [p for p in peaks if p.confidence >= level]
    if not kept:
        return []
    gap = MERGE_S.get(kept[0].type, 0.0) if merge_s is None else merge_s
    return merge_events(kept, gap_s=gap)
