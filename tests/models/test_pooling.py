"""MIL pooling functions: each one's defining property."""

from __future__ import annotations

import pytest
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.models.pooling import (
    POOLINGS,
    MILPooling,
    attention_pool,
    attention_weights,
    auto_pool,
    linear_softmax_pool,
    max_pool,
    mean_pool,
)

torch.manual_seed(0)
PROBS = torch.rand(3, 7, 50)


def test_max_is_the_largest_frame():
    assert torch.equal(max_pool(PROBS), PROBS.max(dim=-1).values)


def test_mean_is_the_mean_frame():
    assert torch.allclose(mean_pool(PROBS), PROBS.mean(dim=-1))


def test_linear_softmax_is_sum_of_squares_over_sum():
    expected = (PROBS**2).sum(-1) / PROBS.sum(-1)
    assert torch.allclose(linear_softmax_pool(PROBS), expected)
    assert torch.all(linear_softmax_pool(PROBS) >= mean_pool(PROBS) - 1e-6)
    assert torch.all(linear_softmax_pool(PROBS) <= max_pool(PROBS) + 1e-6)


def test_linear_softmax_of_silence_is_zero():
    assert torch.equal(linear_softmax_pool(torch.zeros(1, 2, 5)), torch.zeros(1, 2))


def test_auto_pool_spans_mean_to_max():
    assert torch.allclose(auto_pool(PROBS, torch.zeros(7)), mean_pool(PROBS), atol=1e-6)
    assert torch.allclose(auto_pool(PROBS, torch.full((7,), 1e3)), max_pool(PROBS), atol=1e-3)
    middle = auto_pool(PROBS, torch.full((7,), 5.0))
    assert torch.all((middle > mean_pool(PROBS)) & (middle < max_pool(PROBS)))


def test_attention_weights_sum_to_one_and_pick_frames():
    logits = torch.randn(3, 7, 50)
    assert torch.allclose(attention_weights(logits).sum(-1), torch.ones(3, 7))
    one_hot = torch.full((3, 7, 50), -1e4)
    one_hot[..., 17] = 0.0
    assert torch.allclose(attention_pool(PROBS, one_hot), PROBS[..., 17])
    with pytest.raises(ShapeError):
        attention_pool(PROBS, logits[..., :10])


@pytest.mark.parametrize("kind", POOLINGS)
def test_a_mask_keeps_padding_out(kind):
    pool = MILPooling(kind, 7)
    attention = torch.randn(3, 7, 50)
    mask = torch.zeros(3, 50, dtype=torch.bool)
    mask[:, :30] = True
    padded = PROBS.clone()
    padded[..., 30:] = torch.rand(3, 7, 20)  # whatever the padding holds
    got = pool(padded, attention, mask)
    expected = pool(PROBS[..., :30], attention[..., :30])
    assert torch.allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("kind", POOLINGS)
def test_pooled_values_are_probabilities_with_gradients(kind):
    pool = MILPooling(kind, 7)
    logits = torch.randn(2, 7, 20, requires_grad=True)
    clip = pool(torch.sigmoid(logits), torch.randn(2, 7, 20))
    assert clip.shape == (2, 7) and torch.all((clip >= 0) & (clip <= 1))
    clip.sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_auto_pool_learns_alpha_per_type():
    pool = MILPooling("auto", 7)
    assert [name for name, _ in pool.named_parameters()] == ["alpha"]
    assert pool.alpha.shape == (7,)


def test_bad_pooling_and_inputs():
    with pytest.raises(ConfigError, match="pooling must be one of"):
        MILPooling("median", 3)
    with pytest.raises(ConfigError, match="attention logits"):
        MILPooling("attention", 7)(PROBS)
    with pytest.raises(ShapeError):
        MILPooling("max", 7)(PROBS[0])
