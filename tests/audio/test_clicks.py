"""The residual of the short linear predictor, computed chunk by chunk and fused with its
robust floor, equals its definition; per-block maxima without a padded copy."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.audio import clicks

ORDER, BLOCK = 4, 48


def signal(n: int, seed: int = 0) -> np.ndarray:
    """An AR(2) process with a few impulses, a silent stretch and a loud last block;
    (n,) float32."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n) * 0.01
    x = np.zeros(n)
    for i in range(2, n):
        x[i] = 1.6 * x[i - 1] - 0.8 * x[i - 2] + e[i]
    x[rng.integers(0, n, 5)] += 0.5
    x[n // 3:n // 3 + 3 * BLOCK] = 0.0
    x[n - (n % BLOCK or BLOCK):] *= 20  # its own floor, not its neighbour's
    return x.astype(np.float32)


def reference_residual(x: np.ndarray) -> np.ndarray:
    """The predictor's residual, block by block in float64 (the definition)."""
    n_blocks = -(-len(x) // BLOCK)
    padded = np.concatenate((np.zeros(ORDER), x, np.zeros(n_blocks * BLOCK - len(x))))
    residual = np.zeros(n_blocks * BLOCK)
    lags = np.abs(np.subtract.outer(np.arange(ORDER), np.arange(ORDER)))
    for b in range(n_blocks):
        seg = padded[ORDER + b * BLOCK:ORDER + (b + 1) * BLOCK]
        r = np.array([seg[k:] @ seg[:BLOCK - k] for k in range(ORDER + 1)])
        r[0] = r[0] * (1 + 1e-6) + 1e-12
        coeffs = np.linalg.solve(r[lags], r[1:])
        past = np.lib.stride_tricks.sliding_window_view(
            padded[b * BLOCK:(b + 1) * BLOCK + ORDER - 1], ORDER)[:, ::-1]
        residual[b * BLOCK:(b + 1) * BLOCK] = seg - past @ coeffs
    residual[:ORDER] = 0.0
    return residual[:len(x)]


@pytest.mark.parametrize("n", [BLOCK * 300 + 17, BLOCK * 300, BLOCK - 5])
def test_the_residual_is_the_blockwise_predictors(n):
    x = signal(n)
    np.testing.assert_allclose(clicks.lpc_residual(x, ORDER, BLOCK), reference_residual(x),
                               rtol=1e-3, atol=2e-5)


@pytest.mark.parametrize("n", [BLOCK * 300 + 17, BLOCK * 300, BLOCK - 5])
def test_residual_and_score_is_the_residual_over_its_local_floor(n):
    x = signal(n)
    residual, score = clicks.residual_and_score(x, ORDER, BLOCK, 1e-3)
    expected = np.abs(clicks.lpc_residual(x, ORDER, BLOCK))
    floor = np.repeat(clicks.local_floor(expected, BLOCK), BLOCK)[:n]
    assert residual.shape == score.shape == (n,)
    np.testing.assert_array_equal(residual, expected)
    np.testing.assert_array_equal(score, np.where(expected <= 1e-3, 0.0,
                                                  expected / np.maximum(floor, 1e-12)))


def test_the_residual_does_not_depend_on_the_chunking(monkeypatch):
    x = signal(BLOCK * 50 + 9)
    whole = clicks.lpc_residual(x, ORDER, BLOCK), clicks.residual_score(x, ORDER, BLOCK, 1e-3)
    assert len(x) // BLOCK < clicks.CHUNK_BLOCKS  # one chunk above, many below
    monkeypatch.setattr(clicks, "CHUNK_BLOCKS", 3)
    np.testing.assert_array_equal(clicks.lpc_residual(x, ORDER, BLOCK), whole[0])
    np.testing.assert_array_equal(clicks.residual_score(x, ORDER, BLOCK, 1e-3), whole[1])


@pytest.mark.parametrize("n", [0, 1, 44, 45, 1000])
def test_block_max_is_the_padded_blocks_max(n):
    x = np.abs(np.random.default_rng(n).standard_normal(n)).astype(np.float32)
    np.testing.assert_array_equal(clicks.block_max(x, 44),
                                  clicks.block_view(x, 44).max(axis=1))
