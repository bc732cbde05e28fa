"""Detection-gated separation: the gap arithmetic, the weights, the engine's bypass."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.engine.overlap_add import EngineConfig, separate_array
from cantata.errors import ConfigError
from cantata.separate.gating import GateConfig, SkipPlan, skipped_spans
from cantata.testing.separators import GainSeparator
from cantata.types import Segment


def vocal(a, b, label="vocal"):
    return Segment(a, b, label, 0.9)


def test_spans_between_padded_regions():
    segments = [vocal(10, 20), vocal(22, 25), vocal(40, 41), vocal(50, 52, "accompaniment")]
    assert skipped_spans(segments, duration_s=60) == [(0.0, 9.5), (25.5, 39.5), (41.5, 60.0)]


def test_short_gaps_and_edges_are_not_skipped():
    config = GateConfig(pad_s=0.5, min_skip_s=4.0)
    # 3.5 s before the first region (minus padding: 3.0) and 3 s between regions: too short
    segments = [vocal(3.5, 10), vocal(14, 20), vocal(24.4, 28)]
    assert skipped_spans(segments, duration_s=30, config=config) == []
    # a gap of exactly min_skip_s after padding is skipped
    assert skipped_spans([vocal(5, 10), vocal(15, 20)], duration_s=20.5,
                         config=config) == [(0.0, 4.5), (10.5, 14.5)]


def test_no_singing_skips_everything_and_all_singing_nothing():
    assert skipped_spans([], duration_s=30) == [(0.0, 30.0)]
    assert skipped_spans([vocal(0, 30)], duration_s=30) == []
    assert skipped_spans([], duration_s=3) == []  # shorter than min_skip_s


def test_overlapping_and_unsorted_regions():
    segments = [vocal(30, 35), vocal(5, 20), vocal(10, 12)]
    assert skipped_spans(segments, duration_s=50) == [(0.0, 4.5), (20.5, 29.5), (35.5, 50.0)]


def test_bad_config():
    with pytest.raises(ConfigError):
        GateConfig(min_skip_s=0.1, fade_s=0.1)


def test_weights_are_zero_inside_one_outside_with_fades():
    plan = SkipPlan(spans=((100, 400),), fade=20, bypass_stem="accompaniment",
                    sample_rate=100, n_samples=1000)
    w = plan.weights(0, 1000)
    assert w.shape == (1000,) and w.dtype == np.float32
    np.testing.assert_array_equal(w[:100], 1)
    np.testing.assert_array_equal(w[120:380], 0)
    np.testing.assert_array_equal(w[400:], 1)
    assert np.all(np.diff(w[100:120]) < 0) and np.all(np.diff(w[380:400]) > 0)
    # any slice gives the same weights as the whole
    np.testing.assert_array_equal(plan.weights(390, 555), w[390:555])
    assert plan.skipped_s == pytest.approx(3.0)


def test_no_fades_at_the_ends_of_the_recording():
    plan = SkipPlan.from_segments([vocal(4.5, 5.5)], duration_s=10.0, sample_rate=100,
                                  config=GateConfig(pad_s=0.0, min_skip_s=1.0, fade_s=0.3))
    assert plan.spans == ((0, 450), (550, 1000))
    w = plan.weights(0, 1200)  # (the file may turn out longer than its header said)
    np.testing.assert_array_equal(w[:400], 0)
    np.testing.assert_array_equal(w[600:], 0)
    assert w[450:550].min() == 1 and plan.skipped_s == pytest.approx(9.0)


def test_engine_bypasses_the_network_where_skipped():
    rate = 100
    x = np.random.default_rng(0).uniform(-1, 1, (2, 30 * rate)).astype(np.float32)
    plan = SkipPlan.from_segments([vocal(12, 14)], duration_s=30.0, sample_rate=rate,
                                  config=GateConfig(pad_s=0.5, min_skip_s=4.0, fade_s=0.2))
    fake = GainSeparator()
    config = EngineConfig(window_s=8.0, overlap_s=1.0, edge_s=0.25, gate_context_s=0.5)
    out = separate_array(fake, x, sample_rate=rate, config=config, gate=plan)
    full = fake.separate_window(x, rate)
    w = plan.weights(0, x.shape[1])
    np.testing.assert_allclose(out, w * full + (1 - w) * np.stack([np.zeros_like(x), x]),
                               atol=1e-6)
    assert np.all(out[0, :, :1100] == 0)
    np.testing.assert_allclose(out[1, :, :1100], x[:, :1100], atol=1e-6)
    # The network saw only the sung stretch with its fades (11.3 .. 14.7 s) and 0.5 s of
    # context, within the windows [7, 15) and [14, 22): 10.8 .. 15 s and 14 .. 15.2 s.
    assert fake.lengths[:-1] == [420, 120]
    assert np.allclose(out.sum(axis=0), x, atol=1e-6)  # the stems still sum to the mix


def test_gated_engine_skips_whole_windows():
    fake = GainSeparator()
    plan = SkipPlan(spans=((0, 5000),), fade=10, bypass_stem="accompaniment",
                    sample_rate=100, n_samples=5000)
    x = np.ones((1, 5000), np.float32)
    config = EngineConfig(window_s=10.0, overlap_s=1.0, edge_s=0.25)
    out = separate_array(fake, x, sample_rate=100, config=config, gate=plan)
    assert fake.calls == 0 and np.all(out[0] == 0) and np.all(out[1] == 1)
