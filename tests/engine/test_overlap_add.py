"""The overlap-add engine: windows, seamless overlap-add, exact lengths, streaming."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.engine.overlap_add import (
    EngineConfig,
    active_runs,
    crossfade,
    n_windows,
    separate_array,
    separate_stream,
)
from cantata.errors import ConfigError, ShapeError
from cantata.testing.separators import BatchGainSeparator, GainSeparator

RATE = 1000
# windows of 1000 samples overlapping by 250: 50 from one window at each end, 150 crossfaded
CONFIG = EngineConfig(window_s=1.0, overlap_s=0.25, edge_s=0.05, min_window_s=0.1)
WINDOW = 1000
EXACT_ATOL = 1e-6  # the gain separator is sample-wise linear: overlap-add must be exact


def mixture(n_channels: int, n_samples: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n_channels, n_samples)).astype(np.float32)


def test_crossfades_sum_to_one():
    fade_in, fade_out = crossfade(257)
    np.testing.assert_allclose(fade_in + fade_out, 1.0, atol=1e-12)
    assert np.all(np.diff(fade_in) > 0) and 0 < fade_in[0] < 0.01 and 0.99 < fade_in[-1] < 1
    fade_in, fade_out = crossfade(100, 20)
    np.testing.assert_allclose(fade_in + fade_out, 1.0, atol=1e-12)
    assert np.all(fade_in[:20] == 0) and np.all(fade_in[80:] == 1)
    assert np.all(np.diff(fade_in[20:80]) > 0)
    with pytest.raises(ConfigError):
        crossfade(10, 6)
    with pytest.raises(ConfigError):
        EngineConfig(window_s=3.0, overlap_s=2.0)  # three windows would overlap
    with pytest.raises(ConfigError):
        EngineConfig(window_s=10.0, overlap_s=1.0, edge_s=0.6)


@pytest.mark.parametrize("n_samples", [1, WINDOW - 1, WINDOW, WINDOW + 1, 3 * WINDOW // 2,
                                       7 * WINDOW // 2, 10 * WINDOW + 17])
@pytest.mark.parametrize("n_channels", [1, 2])
def test_overlap_add_is_exact_and_lengths_are_kept(n_samples, n_channels):
    x = mixture(n_channels, n_samples)
    fake = GainSeparator()
    out = separate_array(fake, x, sample_rate=RATE, config=CONFIG)
    assert out.shape == (2, n_channels, n_samples) and out.dtype == np.float32
    np.testing.assert_allclose(out, fake.separate_window(x, RATE), atol=EXACT_ATOL)
    expected = n_windows(n_samples, WINDOW, 250)
    assert fake.calls - 1 == expected  # (the reference call above counts one)
    # Every window is at most WINDOW long; a tiny input is padded to min_window_s.
    assert max(fake.lengths[:-1]) <= WINDOW and min(fake.lengths[:-1]) >= 100


def test_window_count():
    assert [n_windows(n, 1000, 250) for n in (0, 1, 1000, 1001, 1750, 1751, 3500)] == \
        [0, 1, 1, 2, 2, 3, 5]


def test_stream_in_odd_blocks_equals_array():
    x = mixture(2, 4321, seed=3)
    whole = separate_array(GainSeparator(), x, sample_rate=RATE, config=CONFIG)
    cuts = [0, 1, 2, 500, 1249, 1250, 1251, 3000, 4321]
    blocks = [x[:, a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    out = np.concatenate(list(separate_stream(GainSeparator(), blocks, sample_rate=RATE,
                                              config=CONFIG)), axis=2)
    np.testing.assert_array_equal(out, whole)


def test_stream_is_lazy_and_bounded():
    """Output comes out while input goes in; neither is held whole."""
    consumed = []

    def blocks():
        for i in range(100):
            consumed.append(i)
            yield mixture(2, 100, seed=i)

    held = []
    stream = separate_stream(GainSeparator(), blocks(), sample_rate=RATE, config=CONFIG)
    for out in stream:
        held.append(out.shape[2])
        # output lags input by at most about one window plus one block
        assert 100 * len(consumed) - sum(held) <= WINDOW + 100
    assert sum(held) == 100 * 100 and len(held) > 10


def test_batching_gives_the_same_output_in_fewer_calls():
    x = mixture(2, 9 * WINDOW, seed=5)
    one = separate_array(GainSeparator(), x, sample_rate=RATE, config=CONFIG)
    fake = BatchGainSeparator()
    config = EngineConfig(window_s=1.0, overlap_s=0.25, edge_s=0.05, batch_size=4)
    batched = separate_array(fake, x, sample_rate=RATE, config=config)
    np.testing.assert_array_equal(batched, one)
    assert fake.batches and max(fake.batches) == 4


def test_progress_adds_up_to_the_duration():
    seen = []
    separate_array(GainSeparator(), mixture(1, 3333), sample_rate=RATE, config=CONFIG,
                   on_progress=seen.append)
    assert len(seen) > 1 and sum(seen) == pytest.approx(3.333)


def test_overlap_region_blends_both_windows():
    """A separator whose output depends on the window proves the crossfade is used."""

    class WindowId(GainSeparator):
        def separate_window(self, samples, rate):
            out = super().separate_window(samples, rate)
            return np.full_like(out, float(self.calls))  # 1, 2, 3 ... per window

    out = separate_array(WindowId(), np.zeros((1, 1750), np.float32), sample_rate=RATE,
                         config=CONFIG)[0, 0]
    np.testing.assert_allclose(out[:800], 1.0)  # the second window's first 50: no weight
    np.testing.assert_allclose(out[950:], 2.0)  # the first window's last 50: no weight
    ramp = out[800:950]
    assert np.all(np.diff(ramp) > 0) and 1 < ramp[0] < 1.01 and 1.99 < ramp[-1] < 2


def test_bad_shapes():
    with pytest.raises(ShapeError):
        separate_array(GainSeparator(), np.zeros(10, np.float32), sample_rate=RATE)
    with pytest.raises(ShapeError, match="channels"):
        list(separate_stream(GainSeparator(), [np.zeros((1, 5)), np.zeros((2, 5))],
                             sample_rate=RATE))


def test_empty_input():
    assert separate_array(GainSeparator(), np.zeros((2, 0)), sample_rate=RATE).shape == (2, 2, 0)


def test_active_runs_widen_and_merge():
    active = np.zeros(100, bool)
    active[[10, 11, 30, 90]] = True
    assert active_runs(active, context=5) == [(5, 17), (25, 36), (85, 96)]
    assert active_runs(active, context=10) == [(0, 41), (80, 100)]
    assert active_runs(np.zeros(5, bool), context=3) == []
