"""The defect metrics on hand-made event lists whose answers are worked out by hand."""

from __future__ import annotations

import pytest

from cantata.defects import metrics
from cantata.defects.metrics import Counts
from cantata.defects.rules import DefectEvent
from cantata.errors import ConfigError


def ev(kind: str, start: float, end: float) -> dict:
    return {"type": kind, "start": start, "end": end, "confidence": 1.0}


def test_counts_add_and_score():
    c = Counts(3, 1, 2) + Counts(1, 0, 0)
    assert c == Counts(4, 1, 2)
    assert c.precision == pytest.approx(4 / 5)
    assert c.recall == pytest.approx(4 / 6)
    assert c.f1 == pytest.approx(8 / 11)
    assert Counts().f1 == 1.0 and Counts(0, 2, 0).f1 == 0.0


def test_collars_by_type():
    assert metrics.onset_collar("click") == 0.02
    assert metrics.onset_collar("dropout") == 0.1


def test_click_onset_collar_is_20_ms():
    ref = [ev("click", 1.0, 1.001), ev("click", 2.0, 2.001)]
    est = [ev("click", 1.019, 1.02), ev("click", 2.021, 2.022)]  # 19 ms: hit; 21 ms: miss
    counts = metrics.event_counts(ref, est, types=["click"])
    assert counts["click"] == Counts(1, 1, 1)


def test_two_estimates_near_one_reference_count_once():
    ref = [ev("dropout", 1.0, 1.2)]
    est = [ev("dropout", 1.01, 1.2), ev("dropout", 1.05, 1.22)]
    assert metrics.event_counts(ref, est, types=["dropout"])["dropout"] == Counts(1, 1, 0)


def test_one_estimate_near_two_references_counts_once():
    ref = [ev("click", 1.0, 1.0), ev("click", 1.015, 1.015)]
    est = [ev("click", 1.008, 1.008)]
    assert metrics.event_counts(ref, est, types=["click"])["click"] == Counts(1, 0, 1)


def test_matching_is_maximal_not_greedy():
    # greedy by distance would give estimate b to reference A (nearest) and leave B unmatched;
    # the maximal matching pairs A-a and B-b: two hits
    ref = [ev("click", 1.000, 1.000), ev("click", 1.030, 1.030)]
    est = [ev("click", 0.985, 0.985), ev("click", 1.012, 1.012)]
    assert metrics.event_counts(ref, est, types=["click"])["click"] == Counts(2, 0, 0)


def test_offset_condition_collar_or_half_the_length():
    ref = [ev("clipping", 10.0, 12.0)]  # 2 s long: the offset may be off by 1 s
    assert metrics.event_counts(ref, [ev("clipping", 10.05, 12.9)],
                                types=["clipping"])["clipping"] == Counts(1, 0, 0)
    assert metrics.event_counts(ref, [ev("clipping", 10.05, 13.1)],
                                types=["clipping"])["clipping"] == Counts(0, 1, 1)
    short = [ev("dropout", 5.0, 5.02)]  # 20 ms long: the collar (100 ms) applies
    assert metrics.event_counts(short, [ev("dropout", 5.0, 5.11)],
                                types=["dropout"])["dropout"] == Counts(1, 0, 0)
    assert metrics.event_counts(short, [ev("dropout", 5.0, 5.13)],
                                types=["dropout"])["dropout"] == Counts(0, 1, 1)
    assert metrics.event_counts(short, [ev("dropout", 5.0, 5.13)], types=["dropout"],
                                offset=False)["dropout"] == Counts(1, 0, 0)


def test_types_are_kept_apart_and_objects_accepted():
    ref = [DefectEvent("click", 1.0, 1.0), DefectEvent("dropout", 3.0, 3.1)]
    est = [ev("dropout", 1.0, 1.0), {"type": "dropout", "start_s": 3.02, "end_s": 3.1}]
    counts = metrics.event_counts(ref, est, types=["click", "dropout"])
    assert counts == {"click": Counts(0, 0, 1), "dropout": Counts(1, 1, 0)}


def test_total_adds_files_and_micro_averages():
    a = {"click": Counts(2, 1, 0), "dropout": Counts(0, 0, 1)}
    b = {"click": Counts(1, 0, 1), "dropout": Counts(1, 0, 0)}
    summed = metrics.total([a, b])
    assert summed == {"click": Counts(3, 1, 1), "dropout": Counts(1, 0, 1),
                      "all": Counts(4, 1, 2)}


def test_segment_based_on_one_second_segments():
    ref = [ev("clipping", 0.5, 2.5), ev("click", 4.2, 4.2)]  # segments 0, 1, 2; 4
    est = [ev("clipping", 2.2, 3.5), ev("click", 4.9, 4.95)]  # segments 2, 3; 4
    counts = metrics.segment_counts(ref, est, 6.0, types=["clipping", "click"])
    assert counts["clipping"] == Counts(tp=1, fp=1, fn=2)
    assert counts["click"] == Counts(tp=1, fp=0, fn=0)
    edge = metrics.segment_counts([ev("dropout", 1.0, 2.0)], [ev("dropout", 1.5, 1.6)], 3.0,
                                  types=["dropout"])  # [1, 2) is segment 1 only
    assert edge["dropout"] == Counts(1, 0, 0)


def test_roc_auc_by_hand():
    assert metrics.roc_auc([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.1]) == 1.0
    assert metrics.roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    # pairs (pos, neg): (0.8, 0.5) win, (0.8, 0.9) lose, (0.5, 0.5) tie, (0.5, 0.9) lose
    assert metrics.roc_auc([1, 1, 0, 0], [0.8, 0.5, 0.5, 0.9]) == pytest.approx(1.5 / 4)
    with pytest.raises(ConfigError, match="only one kind"):
        metrics.roc_auc([1, 1], [0.2, 0.3])
    with pytest.raises(ConfigError, match="one score per song"):
        metrics.roc_auc([1, 0], [0.2])


def test_false_alarms_per_hour():
    events = [[ev("click", 1, 1), ev("click", 5, 5)], [], [ev("dropout", 3, 3.1)]]
    rates = metrics.false_alarms_per_hour(events, [600, 1200, 1800], types=["click", "dropout"])
    assert rates == {"click": 2.0, "dropout": 1.0, "all": 3.0}
    with pytest.raises(ConfigError, match="need one each"):
        metrics.false_alarms_per_hour(events, [600])


def test_bad_event_is_one_clear_error():
    with pytest.raises(ConfigError, match="not an event"):
        metrics.event_counts([{"type": "click", "start": 2.0, "end": 1.0}], [])
