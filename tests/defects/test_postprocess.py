"""Frame probabilities -> events -> song verdict: the two fusion rules compared."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.defects.postprocess import (
    FusionConfig,
    calibrate,
    frames_to_events,
    verdict,
)
from cantata.defects.rules import DefectEvent
from cantata.errors import ConfigError

HOP = 0.01
TYPES = ("click", "dropout")
THRESHOLD = FusionConfig(rule="threshold", merge_gap_s=0.0)
HYSTERESIS = FusionConfig(rule="hysteresis", on=0.5, off=0.3, merge_gap_s=0.0)


def _probs(*rows):
    return np.array(rows, np.float32)


def test_a_single_frame_click_is_one_event_centred_on_its_frame():
    p = np.zeros((2, 100), np.float32)
    p[0, 40] = 0.9
    events = frames_to_events(p, types=TYPES, hop_s=HOP, duration_s=1.0, config=THRESHOLD)
    assert events == [DefectEvent("click", 0.395, 0.405, pytest.approx(0.9))]


def test_hysteresis_keeps_a_wavering_event_whole_where_a_threshold_splits_it():
    wavering = [0.1, 0.7, 0.45, 0.6, 0.4, 0.8, 0.1, 0.1]
    p = _probs(wavering, [0.0] * 8)
    split = frames_to_events(p, types=TYPES, hop_s=HOP, config=THRESHOLD)
    whole = frames_to_events(p, types=TYPES, hop_s=HOP, config=HYSTERESIS)
    assert len(split) == 3
    assert [(e.start_s, e.end_s) for e in whole] == [(0.005, 0.055)]
    assert whole[0].confidence == pytest.approx(0.8)


def test_hysteresis_needs_the_on_threshold_to_start():
    p = _probs([0.1, 0.45, 0.45, 0.45, 0.1], [0.0] * 5)
    assert frames_to_events(p, types=TYPES, hop_s=HOP, config=HYSTERESIS) == []


def test_gaps_are_merged_and_short_events_dropped():
    row = np.zeros(60, np.float32)
    row[[10, 11, 14, 15]] = 0.9  # two runs 2 frames apart
    row[40] = 0.9  # a lone frame
    p = np.stack([np.zeros(60, np.float32), row])
    merged = FusionConfig(rule="threshold", merge_gap_s=0.03, min_event_s=0.03)
    events = frames_to_events(p, types=TYPES, hop_s=HOP, config=merged)
    assert [(e.type, e.start_s, e.end_s) for e in events] == [("dropout", 0.095, 0.155)]


def test_events_are_in_time_order_and_clipped_to_the_recording():
    p = np.zeros((2, 11), np.float32)
    p[1, 2], p[0, 5], p[1, 10] = 0.9, 0.9, 0.9
    events = frames_to_events(p, types=TYPES, hop_s=HOP, duration_s=0.102, config=THRESHOLD)
    assert [e.type for e in events] == ["dropout", "click", "dropout"]
    assert events[-1].end_s == 0.102


def test_verdict_counts_every_type():
    p = np.zeros((2, 50), np.float32)
    p[0, [5, 20]] = 0.9
    events = frames_to_events(p, types=TYPES, hop_s=HOP, config=THRESHOLD)
    v = verdict(events, types=TYPES, score=0.9)
    assert v.to_dict() == {"defective": True, "types": {"click": 2, "dropout": 0},
                           "score": pytest.approx(0.9)}
    clean = verdict([], types=TYPES, score=0.2)
    assert not clean.defective and clean.types == {"click": 0, "dropout": 0}


def test_calibration_puts_each_threshold_at_one_half():
    raw = np.array([[0.0, 0.2, 0.8, 1.0], [0.0, 0.2, 0.8, 1.0]], np.float32)
    got = calibrate(raw, np.array([0.2, 0.8]))
    np.testing.assert_allclose(got, [[0.0, 0.5, 0.875, 1.0], [0.0, 0.125, 0.5, 1.0]],
                               atol=1e-6)


def test_bad_configs():
    with pytest.raises(ConfigError, match="rule"):
        FusionConfig(rule="median")
    with pytest.raises(ConfigError, match="off <= on"):
        FusionConfig(on=0.3, off=0.5)
    with pytest.raises(ConfigError, match="rows"):
        frames_to_events(np.zeros((3, 4)), types=TYPES, hop_s=HOP)
