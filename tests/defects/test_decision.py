"""Per-type decisions between the model and the rules, calibrated on validation events."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.defects.decision import (
    Clip,
    Decision,
    calibrate_decisions,
    calibrated,
    candidates,
    clean_weight_for,
    confirmed,
    events_of,
    song_score,
)
from cantata.defects.postprocess import FusionConfig
from cantata.defects.rules import DefectEvent
from cantata.errors import ConfigError

HOP = 0.01
TYPES = ("click", "codec")


def _clip(click_at: float | None, codec: tuple[float, float] | None, *,
          rule_clicks: list[float], click_prob: float) -> Clip:
    """A 2 s clip: the truth, rule clicks (some false) and model probabilities that back
    the true click at ``click_prob`` (and a false one at 1.5 s louder) and light up the
    codec span."""
    probs = np.full((2, 201), 0.05, np.float32)
    probs[0, 150] = 0.7  # the model alone hears a click that is none
    reference = []
    if click_at is not None:
        probs[0, round(click_at / HOP)] = click_prob
        reference.append(DefectEvent("click", click_at, click_at + 0.001))
    if codec is not None:
        probs[1, round(codec[0] / HOP): round(codec[1] / HOP)] = 0.7
        reference.append(DefectEvent("codec", *codec))
    rule_events = [DefectEvent("click", t, t + 0.001) for t in rule_clicks]
    return Clip(probs, rule_events, reference, 2.0)


def test_calibration_confirms_rule_events_the_model_backs_and_thresholds_the_model():
    clips = [_clip(0.5, (1.0, 1.4), rule_clicks=[0.5, 1.7], click_prob=0.6),
             _clip(1.2, None, rule_clicks=[1.2, 0.3], click_prob=0.6),
             _clip(None, (0.2, 0.9), rule_clicks=[1.9], click_prob=0.0)]
    decisions, record = calibrate_decisions(clips, TYPES, hop_s=HOP,
                                            fusion=FusionConfig(rule="threshold"))
    # the rules alone: 2 tp, 3 fp; confirmed by the model at a level in (0.05, 0.6]: perfect
    assert decisions["click"].source == "confirmed" and 0.05 < decisions["click"].confirm <= 0.6
    assert record["click"]["chosen"]["f1"] == 1.0
    assert decisions["codec"].source == "model" and 0.05 < decisions["codec"].threshold < 0.7
    assert record["codec"]["chosen"]["fp"] == 0
    with pytest.raises(ConfigError, match="no validation clips"):
        calibrate_decisions([], TYPES, hop_s=HOP)


def test_candidates_offer_rules_only_for_types_a_rule_finds():
    probs = [np.linspace(0, 1, 100)]
    assert {d.source for d in candidates("click", probs)} == {"model", "rules", "confirmed"}
    assert {d.source for d in candidates("codec", probs)} == {"model"}


def test_events_of_each_source_and_the_song_score():
    probs = np.zeros((2, 100), np.float32)
    probs[0, 10] = 0.8
    rule_events = [DefectEvent("click", 0.1, 0.101, 0.9), DefectEvent("click", 0.5, 0.501, 0.4)]
    fusion = FusionConfig(rule="threshold")
    args = {"hop_s": HOP, "duration_s": 1.0, "fusion": fusion}
    assert events_of(Decision("rules"), "click", probs[0], rule_events, **args) == rule_events
    assert events_of(Decision("confirmed", confirm=0.5), "click", probs[0], rule_events,
                     **args) == rule_events[:1]
    model = events_of(Decision("model"), "click", probs[0], rule_events, **args)
    assert [(e.type, round(e.start_s, 3)) for e in model] == [("click", 0.095)]
    longer = Decision("model", min_event_s=0.05)  # a one-frame blip is dropped
    assert events_of(longer, "click", probs[0], rule_events, **args) == []
    assert confirmed(rule_events, probs[0], hop_s=HOP, level=0.9) == []
    decisions = [Decision("confirmed", confirm=0.5), Decision("model", threshold=0.2)]
    cal = calibrated(probs, decisions)
    assert cal[0, 10] == pytest.approx(0.8)  # a rule type keeps its probabilities
    assert song_score(rule_events[:1], cal, TYPES, decisions) == pytest.approx(0.95)
    assert song_score([], cal, TYPES, decisions) == pytest.approx(0.4)  # what the model heard
    assert song_score([], np.zeros_like(cal), TYPES, decisions) == pytest.approx(0.0)


def test_false_events_on_clean_clips_weigh_as_a_catalogs_clean_share_says():
    defective = _clip(0.5, None, rule_clicks=[0.5], click_prob=0.6)
    clean = [_clip(None, None, rule_clicks=[1.0], click_prob=0.0) for _ in range(3)]
    clips = [defective, *clean]
    assert clean_weight_for(clips, 0.75) == pytest.approx(1.0)  # 3 of 4 clean already
    assert clean_weight_for(clips, 0.9) == pytest.approx(3.0)
    assert clean_weight_for(clean, 0.9) == 1.0
    _, plain = calibrate_decisions(clips, TYPES, hop_s=HOP)
    _, weighted = calibrate_decisions(clips, TYPES, hop_s=HOP, clean_weight=3.0)
    rules = [c for c in plain["click"]["candidates"] if c["source"] == "rules"][0]
    heavy = [c for c in weighted["click"]["candidates"] if c["source"] == "rules"][0]
    assert (rules["tp"], rules["fp"]) == (1, 3) and rules["weighted_f1"] == pytest.approx(0.4)
    assert heavy["weighted_f1"] == pytest.approx(2 / (2 + 9), abs=1e-4)


def test_verified_clicks_are_the_candidates_over_the_level_merged_and_calibrated():
    peaks = [DefectEvent("click", 0.5, 0.5001, 0.97), DefectEvent("click", 0.7, 0.7001, 0.99),
             DefectEvent("click", 1.6, 1.6001, 0.3)]
    args = {"hop_s": HOP, "duration_s": 2.0, "fusion": FusionConfig()}
    probs = np.zeros(201)
    # 0.5 and 0.7 are one crackle (closer than 0.5 s), the 0.3 candidate stays out
    events = events_of(Decision("verified", confirm=0.9), "click", probs, [], peaks=peaks, **args)
    assert events == [DefectEvent("click", 0.5, 0.7001, 0.99)]
    assert events_of(Decision("verified", confirm=0.995), "click", probs, [], peaks=peaks,
                     **args) == []
    assert {d.source for d in candidates("click", [probs], verified=True)} == {
        "model", "rules", "confirmed", "verified"}
    # the verifier separates a true click (0.98) from a false one (0.6): a level between wins
    clips = [Clip(np.zeros((2, 201)), [], [DefectEvent("click", 0.5, 0.5001)], 2.0,
                  peaks=[DefectEvent("click", 0.5, 0.5001, 0.98)]),
             Clip(np.zeros((2, 201)), [], [], 2.0,
                  peaks=[DefectEvent("click", 1.0, 1.0001, 0.6)])]
    decisions, record = calibrate_decisions(clips, TYPES, hop_s=HOP)
    assert decisions["click"].source == "verified" and 0.6 < decisions["click"].confirm <= 0.98
    assert record["click"]["chosen"]["f1"] == 1.0
