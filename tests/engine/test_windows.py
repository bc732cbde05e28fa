"""Window plans: stitched windows cover every frame once; segments every hop."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.engine.windows import StitchPlan, segment_starts
from cantata.errors import ConfigError

PLAN = StitchPlan(hop=4, keep=5, context=2, sample_rate=100)  # windows of 36 samples


def blocks_of(x: np.ndarray, size: int) -> list[np.ndarray]:
    return [x[..., i:i + size] for i in range(0, x.shape[-1], size)]


@pytest.mark.parametrize("n", [1, 4, 35, 36, 37, 40, 56, 57, 100, 203])
@pytest.mark.parametrize("block", [1, 7, 36, 1000])
def test_kept_frames_cover_the_recording_once_in_order(n, block):
    x = np.arange(n, dtype=np.float32)
    windows = list(PLAN.windows(blocks_of(x, block)))
    kept = [f for w in windows for f in range(w.kept, w.kept + w.count)]
    assert kept == list(range(PLAN.n_frames(n)))
    assert [w.last for w in windows] == [False] * (len(windows) - 1) + [True]
    for w in windows:
        start = w.first * PLAN.hop
        np.testing.assert_array_equal(w.audio, x[start:start + w.audio.shape[-1]])  # in place
        assert w.offset >= 0 and w.offset + w.count <= PLAN.n_frames(w.audio.shape[-1])
    full = [w.audio.shape[-1] for w in windows[:-1]]
    assert all(length == PLAN.span for length in full)  # one length: shared passes
    end = windows[-1]
    assert end.first * PLAN.hop + end.audio.shape[-1] == n  # the last ends at the end
    assert end.audio.shape[-1] <= PLAN.span


def test_windows_keep_leading_axes_and_empty_streams_give_none():
    x = np.random.default_rng(0).standard_normal((2, 90)).astype(np.float32)
    windows = list(PLAN.windows(blocks_of(x, 13)))
    assert all(w.audio.shape[0] == 2 for w in windows)
    assert list(PLAN.windows([])) == [] == list(PLAN.windows([np.zeros(0)]))


def test_plan_from_seconds_and_bad_plans():
    plan = StitchPlan.from_seconds(sample_rate=16000, hop=320, keep_s=30.0, context_s=4.0)
    assert (plan.keep, plan.context, plan.span) == (1500, 200, 1900 * 320)
    with pytest.raises(ConfigError):
        StitchPlan(hop=0, keep=5, context=2, sample_rate=100)


def test_segment_starts():
    assert segment_starts(10, length=4, hop=3) == [0, 3, 6]  # 0 left over
    assert segment_starts(12, length=4, hop=3) == [0, 3, 6, 8]  # 2 > hop // 2 left over
    assert segment_starts(11, length=4, hop=3) == [0, 3, 6]  # 1: not worth a window
    assert segment_starts(2, length=4, hop=3) == [0]  # shorter than a window
    assert segment_starts(20, length=4, hop=4) == [0, 4, 8, 12, 16]
    with pytest.raises(ConfigError):
        segment_starts(10, length=4, hop=0)
