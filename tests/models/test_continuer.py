"""The continuer and its training task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cantata.errors import ShapeError
from cantata.models.continuer import Continuer, ContinuerConfig
from cantata.train.tasks.continuation import ContinuationTask, EmbeddingSequences


def test_predictions_are_causal_and_extend_feeds_back():
    torch.manual_seed(0)
    model = Continuer(ContinuerConfig(dim=4, hidden=8, layers=1)).eval()
    x = torch.randn(2, 6, 4)
    y = model(x)
    y2 = model(torch.cat([x[:, :3], torch.randn(2, 3, 4)], dim=1))
    assert torch.allclose(y[:, :3], y2[:, :3])  # step t sees only 0..t
    out = model.extend(x[0], 5)
    assert out.shape == (5, 4)
    assert torch.allclose(out[0], y[0, -1], atol=1e-6)
    with pytest.raises(ShapeError):
        model(torch.randn(2, 6, 3))


def test_task_learns_a_linear_walk():
    rng = np.random.default_rng(0)
    step = rng.standard_normal(4).astype(np.float32) * 0.3
    sequences = [np.cumsum(np.tile(step, (40, 1)), axis=0) + rng.standard_normal(4)
                 for _ in range(8)]
    data = EmbeddingSequences(sequences, steps=6, n_items=32, seed=0)
    assert data[0].shape == (7, 4)
    torch.manual_seed(0)
    model = Continuer(ContinuerConfig(dim=4, hidden=16, layers=1))
    task = ContinuationTask()
    batch = torch.stack([data[i] for i in range(32)])
    before = task.evaluate(model.eval(), [batch])["val_mse"]
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    model.train()
    for _ in range(150):
        loss, _ = task.training_step(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = task.evaluate(model.eval(), [batch])
    assert after["val_mse"] < 0.2 * before
    assert after["val_mse"] < after["val_mse_repeat_last"]
