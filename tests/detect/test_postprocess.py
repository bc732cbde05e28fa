"""Probabilities -> regions, without a model."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.detect.postprocess import PostprocessConfig, probs_to_segments
from cantata.errors import ConfigError, ShapeError

HOP = 0.02


def step(spans: list[tuple[float, float]], *, n: int = 250, high: float = 0.9,
         low: float = 0.1) -> np.ndarray:
    """Frames centred in [start, end) high: they span [start - HOP / 2, end - HOP / 2)."""
    p = np.full(n, low)
    for start, end in spans:
        p[round(start / HOP):round(end / HOP)] = high
    return p


def test_regions_with_confidence():
    probs = step([(1.0, 2.0), (3.0, 4.5)])[None]
    segs = probs_to_segments(probs, labels=["vocal"], hop_s=HOP)
    assert [(s.start_s, s.end_s, s.label) for s in segs] == [
        (pytest.approx(0.99), pytest.approx(1.99), "vocal"),
        (pytest.approx(2.99), pytest.approx(4.49), "vocal")]
    assert all(s.confidence == pytest.approx(0.9) for s in segs)


def test_short_gaps_bridged_short_blips_dropped_spikes_smoothed():
    probs = step([(1.0, 2.0), (2.2, 3.0), (4.0, 4.1)])[None]
    probs[0, 175] = 0.99  # a one-frame spike at 3.5 s: the median filter removes it
    segs = probs_to_segments(probs, labels=["vocal"], hop_s=HOP)
    assert [(round(s.start_s, 2), round(s.end_s, 2)) for s in segs] == [(0.99, 2.99)]


def test_hysteresis_keeps_a_dipping_region_whole():
    p = step([(1.0, 3.0)])
    p[round(2.0 / HOP):round(2.5 / HOP)] = 0.45  # between off (0.4) and on (0.5)
    segs = probs_to_segments(p[None], labels=["vocal"], hop_s=HOP,
                             config=PostprocessConfig(min_gap_s=0.0))
    assert len(segs) == 1


def test_multilabel_regions_may_overlap_and_are_sorted():
    probs = np.stack([step([(1.0, 3.0)]), step([(0.0, 5.0)]), step([(4.0, 5.0)])])
    segs = probs_to_segments(probs, labels=["vocal", "accompaniment", "silence"], hop_s=HOP,
                             duration_s=4.9)
    assert [(s.label, s.start_s, s.end_s) for s in segs] == [
        ("accompaniment", 0.0, 4.9), ("vocal", pytest.approx(0.99), pytest.approx(2.99)),
        ("silence", pytest.approx(3.99), 4.9)]


def test_bad_inputs():
    with pytest.raises(ShapeError):
        probs_to_segments(np.zeros((2, 10)), labels=["vocal"], hop_s=HOP)
    with pytest.raises(ConfigError):
        PostprocessConfig(threshold_on=0.3, threshold_off=0.6)
