"""From frame probabilities to regions: smoothing, hysteresis, minimum lengths (pure).

Every decision a detector makes after the network lives here, tunable and testable
without a model: probabilities in, :class:`~cantata.types.Segment` lists out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from cantata.errors import ConfigError, ShapeError
from cantata.regions import clean_runs, hysteresis, run_span_s, runs
from cantata.types import Segment


@dataclass(frozen=True)
class PostprocessConfig:
    """How frame probabilities become regions.

    Attributes:
        threshold_on: a region starts where the (smoothed) probability rises above this.
        threshold_off: and lasts until it falls below this (<= threshold_on).
        median_s: median-filter window over the probabilities (0 = none).
        min_region_s: shorter regions are dropped.
        min_gap_s: shorter gaps between regions of one label are bridged.
    """

    threshold_on: float = 0.5
    threshold_off: float = 0.4
    median_s: float = 0.1
    min_region_s: float = 0.2
    min_gap_s: float = 0.3

    def __post_init__(self) -> None:
        if not 0 <= self.threshold_off <= self.threshold_on <= 1:
            raise ConfigError("need 0 <= threshold_off <= threshold_on <= 1, got "
                              f"{self.threshold_off}, {self.threshold_on}")
        if min(self.median_s, self.min_region_s, self.min_gap_s) < 0:
            raise ConfigError("median_s, min_region_s and min_gap_s must be >= 0")


def smooth(probs: np.ndarray, *, hop_s: float, median_s: float) -> np.ndarray:
    """Median-filter each label's probabilities over time; (labels, frames) -> same."""
    width = int(round(median_s / hop_s)) | 1  # odd
    return probs if width <= 1 else median_filter(probs, size=(1, width), mode="nearest")


def probs_to_segments(
    probs: np.ndarray, *, labels: Sequence[str], hop_s: float,
    config: PostprocessConfig = PostprocessConfig(), duration_s: float | None = None,
) -> list[Segment]:
    """Regions of each label, with the mean probability inside as confidence.

    Args:
        probs: frame probabilities, shape (len(labels), frames); frame i is centred on
            ``i * hop_s``, so a run of frames [a, b) becomes the region
            [(a - 1/2) * hop_s, (b - 1/2) * hop_s) (:func:`cantata.regions.run_span_s`).
        labels: one name per row.
        hop_s: frame hop in seconds.
        config: the decision rules.
        duration_s: clip regions to this length (the audio's duration).

    Returns:
        Regions sorted by start time, then label.
    """
    if probs.ndim != 2 or probs.shape[0] != len(labels):
        raise ShapeError(f"probs must be ({len(labels)}, frames), got {probs.shape}")
    smoothed = smooth(probs, hop_s=hop_s, median_s=config.median_s)
    segments = []
    for row, label in enumerate(labels):
        active = hysteresis(smoothed[row], on_db=config.threshold_on, off_db=config.threshold_off)
        active = clean_runs(active, min_gap_frames=round(config.min_gap_s / hop_s),
                            min_region_frames=round(config.min_region_s / hop_s))
        for start, stop in runs(active):
            start_s, end_s = run_span_s(start, stop, hop_s=hop_s, duration_s=duration_s)
            if end_s > start_s:
                confidence = float(probs[row, start:stop].mean())
                segments.append(Segment(start_s, end_s, label, round(confidence, 4)))
    return sorted(segments, key=lambda s: (s.start_s, s.label))
