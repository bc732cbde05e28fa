"""Stitched inference: a frame-wise identity model comes out unchanged, at any length."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.engine.stitch import stitch, stitch_many
from cantata.engine.windows import StitchPlan

PLAN = StitchPlan(hop=4, keep=5, context=2, sample_rate=100)


class IdentityFrames:
    """Frame i = the sample at i * hop (the end padded), as a centred frame-wise model sees
    it; (batch, ..., time) -> (batch, ..., 1 + time // hop). Counts its forward passes."""

    def __init__(self, hop: int) -> None:
        self.hop, self.batches = hop, []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(batch.shape[0])
        n = batch.shape[-1]
        padded = np.pad(batch, [(0, 0)] * (batch.ndim - 1) + [(0, self.hop)], mode="edge")
        return padded[..., ::self.hop][..., : 1 + n // self.hop]


def blocks_of(x: np.ndarray, size: int) -> list[np.ndarray]:
    return [x[..., i:i + size] for i in range(0, x.shape[-1], size)]


@pytest.mark.parametrize("n", [1, 4, 36, 37, 40, 57, 203, 1000])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_identity_model_reproduces_the_input_frames(n, batch_size):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    model = IdentityFrames(PLAN.hop)
    whole = model(x[None])[0]
    frames, n_samples = stitch(PLAN, blocks_of(x, 17), model, batch_size=batch_size,
                               out_dims=())
    assert n_samples == n and frames.shape == (PLAN.n_frames(n),)
    np.testing.assert_array_equal(frames, whole)
    assert max(model.batches[1:]) <= batch_size


def test_leading_axes_pass_through():
    x = np.random.default_rng(1).standard_normal((2, 3, 150)).astype(np.float32)
    model = IdentityFrames(PLAN.hop)
    frames, _ = stitch(PLAN, blocks_of(x, 50), model, batch_size=2, out_dims=(2, 3))
    np.testing.assert_array_equal(frames, model(x[None])[0])


def test_empty_stream():
    frames, n = stitch(PLAN, [], IdentityFrames(4), batch_size=2, out_dims=(3,))
    assert frames.shape == (3, 0) and frames.dtype == np.float32 and n == 0


def test_progress_adds_up_to_the_duration():
    seen = []
    stitch(PLAN, blocks_of(np.zeros(333, np.float32), 50), IdentityFrames(4), batch_size=2,
           out_dims=(), on_progress=seen.append)
    assert len(seen) > 3 and all(s > 0 for s in seen) and sum(seen) == pytest.approx(3.33)


def test_many_recordings_batched_together_equal_each_alone():
    rng = np.random.default_rng(2)
    recordings = [rng.standard_normal(n).astype(np.float32) for n in (36, 1, 120, 0, 36, 203)]
    model = IdentityFrames(PLAN.hop)
    together = stitch_many(PLAN, recordings, model, batch_size=4, out_dims=())
    assert model.batches[0] == 4  # full windows of different recordings share a pass
    for x, frames in zip(recordings, together, strict=True):
        alone, _ = stitch(PLAN, [x], IdentityFrames(PLAN.hop), batch_size=1, out_dims=())
        np.testing.assert_array_equal(frames, alone)
        assert frames.shape == (PLAN.n_frames(len(x)),)
