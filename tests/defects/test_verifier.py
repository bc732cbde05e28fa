"""Click candidates, the click verifier, and its training from weak or strong labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cantata.audio.clicks import N_CANDIDATE_FEATURES, click_candidates
from cantata.defects import DefectDetector
from cantata.defects.decision import Decision
from cantata.defects.rules import BlockRules, DefectEvent
from cantata.defects.verifier import merge_peaks, scored_peaks
from cantata.errors import ConfigError
from cantata.models.defect_detector import CandidateVerifier, debug_defect_detector
from cantata.train.tasks.verifier import Bags, bag_logits, evaluate, fit_verifier
from cantata.types import Waveform

RATE = 44100


def _music(seconds: float = 2.0, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Smooth, music-like noise (a random walk, lowpassed) at -20 dBFS or so."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal((channels, round(seconds * RATE))), axis=1)
    x -= np.convolve(x[0], np.ones(441) / 441, mode="same")[None]
    return (0.1 * x / np.abs(x).max()).astype(np.float32)


def test_candidates_find_an_impulse_in_one_channel_and_describe_it():
    x = _music()
    x[1, RATE] += 0.4
    at, features = click_candidates(x, RATE)
    assert features.shape == (len(at), N_CANDIDATE_FEATURES) and features.dtype == np.float32
    assert np.all(np.diff(at) > 0) and np.isfinite(features).all()
    hit = np.flatnonzero(np.abs(at - RATE) <= 2)
    assert len(hit) == 1
    # its own channel's score stands out; the other channel is quiet there; stereo, 44.1 kHz
    own, other = features[hit[0], 16], features[hit[0], 33 + 16]
    assert own > np.log1p(10) and other < own
    assert features[hit[0], -2] == 0.0 and features[hit[0], -1] == pytest.approx(RATE / 48000)
    mono_at, mono = click_candidates(x[1:], RATE)
    assert np.any(np.abs(mono_at - RATE) <= 2) and np.all(mono[:, -2] == 1.0)
    assert not mono[:, 33:66].any()  # no other channel


def test_silence_and_short_audio_have_no_candidates():
    assert click_candidates(np.zeros((2, RATE), np.float32), RATE)[0].size == 0
    at, features = click_candidates(np.ones((1, 100), np.float32), RATE)
    assert at.size == 0 and features.shape == (0, N_CANDIDATE_FEATURES)


def test_scored_peaks_and_merging():
    x = _music()
    x[0, RATE // 2] += 0.5
    verifier = debug_defect_detector().verifier
    peaks = scored_peaks(Waveform(x, RATE), verifier)
    assert peaks and all(0 <= p.confidence <= 1 for p in peaks)
    # every candidate once per type the verifier tells apart
    assert [p.type for p in peaks[:2]] == ["click", "discontinuity"]
    assert len({p.start_s for p in peaks}) == len(peaks) // 2
    assert any(abs(p.start_s - 0.5) < 0.001 for p in peaks)
    assert [p.start_s for p in peaks] == sorted(p.start_s for p in peaks)
    near = [DefectEvent("click", 0.1, 0.1001, 0.9), DefectEvent("click", 0.5, 0.5001, 0.8),
            DefectEvent("click", 1.2, 1.2001, 0.95)]
    assert merge_peaks(near, 0.85) == [DefectEvent("click", 0.1, 0.1001, 0.9),
                                       DefectEvent("click", 1.2, 1.2001, 0.95)]
    assert merge_peaks(near, 0.5) == [DefectEvent("click", 0.1, 0.5001, 0.9),
                                      DefectEvent("click", 1.2, 1.2001, 0.95)]
    jumps = [DefectEvent("discontinuity", e.start_s, e.end_s, e.confidence) for e in near]
    assert len(merge_peaks(jumps, 0.5)) == 3  # jumps merge within 0.2 s only


def test_a_detector_verifies_clicks_block_by_block():
    model = debug_defect_detector()
    x = _music(seconds=3.0)
    x[:, round(2.5 * RATE)] += 0.5
    detector = DefectDetector(model, decisions={"click": Decision("verified", confirm=0.0),
                                                "clipping": Decision("rules")})
    assert detector.verify and "click" not in detector.rule_types
    frames = detector.frame_probs(Waveform(x, RATE))
    assert any(abs(p.start_s - 2.5) < 0.001 for p in frames.peaks)
    report = detector.report_of(frames, types=["click"])
    assert report.events and all(e.type == "click" for e in report.events)
    # the same click when the audio comes in blocks of a second, each seen with context
    blocks = BlockRules(find=lambda w: scored_peaks(w, model.verifier), merge=False)
    for i in range(0, x.shape[1], RATE):
        blocks.push(Waveform(x[:, i:i + RATE], RATE))
    streamed = blocks.events()
    assert [p.start_s for p in streamed] == sorted(p.start_s for p in streamed)
    assert sum(abs(p.start_s - 2.5) < 0.001 for p in streamed if p.type == "click") == 1
    plain = DefectDetector(debug_defect_detector())
    assert not plain.verify and plain.frame_probs(Waveform(x, RATE)).peaks == ()


def test_a_verified_decision_needs_a_verifier():
    model = debug_defect_detector()
    model.verifier = None
    with pytest.raises(ConfigError, match="candidate verifier"):
        DefectDetector(model, decisions={"click": Decision("verified")})


TYPES = ("click", "discontinuity")


def _bags(seed: int, clips: int = 400) -> Bags:
    """Bags of 3 candidates; in a clip with a click one of them has feature 0 high, in
    one with a jump (every third clip) one has feature 1 high."""
    rng = np.random.default_rng(seed)
    features = 0.1 * rng.standard_normal((3 * clips, N_CANDIDATE_FEATURES)).astype(np.float32)
    weak = np.stack([np.arange(clips) % 2 == 0, np.arange(clips) % 3 == 0], axis=1)
    strong = np.zeros((3 * clips, 2), bool)
    strong[np.flatnonzero(weak[:, 0]) * 3 + 1, 0] = True
    strong[np.flatnonzero(weak[:, 1]) * 3 + 2, 1] = True
    features[:, :2] += 2.0 * strong
    return Bags(TYPES, features, np.repeat(np.arange(clips), 3), strong, weak)


@pytest.mark.parametrize("labels", ["weak", "strong"])
def test_the_verifier_learns_which_candidate_is_the_click(labels):
    torch.manual_seed(0)
    verifier = CandidateVerifier(8, TYPES)
    train, val = _bags(0), _bags(1)
    before = evaluate(verifier, val, labels)
    record = fit_verifier(verifier, train, val, labels=labels, steps=150,
                                batch_clips=32, lr=1e-2, eval_every=50)
    after = record["val_metrics"]
    assert after["loss"] < before["loss"] and record["best_step"] in (50, 100, 150)
    for name in TYPES:
        assert after[name]["candidate_auc"] > 0.95 and after[name]["clip_auc"] > 0.95
    assert record["train"] == {"clips": 400, "candidates": 1200,
                               "click": {"clips": 200, "candidates": 200},
                               "discontinuity": {"clips": 134, "candidates": 134}}


def test_bag_pooling_and_bad_training_input():
    logits = torch.tensor([[0.1, 3.0], [2.0, 0.0], [-1.0, 1.0], [0.5, -2.0]])
    pooled = bag_logits(logits, torch.tensor([0, 0, 2, 2]), 3)
    assert pooled[0].tolist() == [2.0, 3.0] and pooled[2].tolist() == [0.5, 1.0]
    assert torch.isinf(pooled[1]).all()
    empty = Bags(TYPES, np.zeros((0, N_CANDIDATE_FEATURES), np.float32), np.zeros(0, int),
                 np.zeros((0, 2), bool), np.zeros((2, 2), bool))
    with pytest.raises(ConfigError, match="no candidates"):
        fit_verifier(CandidateVerifier(4, TYPES), empty, empty)
    with pytest.raises(ConfigError, match="weak or strong"):
        fit_verifier(CandidateVerifier(4, TYPES), _bags(0), _bags(1), labels="frames")
    with pytest.raises(ConfigError, match="the verifier tells"):
        fit_verifier(CandidateVerifier(4, ("click",)), _bags(0), _bags(1))
