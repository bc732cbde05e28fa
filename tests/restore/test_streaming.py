"""The restorer network and its streaming denoiser: causal, stateful, exact at strength 0."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cantata.errors import ConfigError
from cantata.models.restorer import MaskCRNN, RestorerConfig, debug_restorer
from cantata.restore.streaming import StreamingDenoiser, mask_gain


def signal(channels=2, n=8000, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal((channels, n))).astype(np.float32)


def test_strength_zero_gives_the_input_back():
    x = signal()
    out = StreamingDenoiser(debug_restorer(), channels=2, strength=0.0).process_all(x)
    assert out.shape == x.shape and np.abs(out - x).max() < 1e-5


def test_blocks_of_any_size_match_the_whole_signal():
    x = signal()
    denoiser = StreamingDenoiser(debug_restorer(), channels=2)
    whole = denoiser.process_all(x)
    denoiser.reset()
    parts = [denoiser.process(x[:, i: i + 333]) for i in range(0, x.shape[1], 333)]
    parts.append(denoiser.process(np.zeros((2, denoiser.delay + denoiser.hop), np.float32)))
    streamed = np.concatenate(parts, axis=1)[:, denoiser.delay: denoiser.delay + x.shape[1]]
    np.testing.assert_allclose(streamed, whole, atol=1e-5)


def test_the_mask_is_causal():
    model = debug_restorer().eval()
    mag = torch.rand(1, model.config.n_freq, 20)
    changed = mag.clone()
    changed[:, :, 12:] = 5.0
    with torch.no_grad():
        a, _ = model(mag)
        b, _ = model(changed)
    assert torch.equal(a[:, :, :12], b[:, :, :12]) and not torch.equal(a, b)


def test_gain_floor_and_strength():
    mask = np.array([0.0, 0.25, 1.0])
    np.testing.assert_allclose(mask_gain(mask, 1.0, -20.0), [0.1, 0.25, 1.0])
    np.testing.assert_allclose(mask_gain(mask, 0.0), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(mask_gain(mask, 2.0, -60.0), [1e-3, 0.0625, 1.0])


def test_latency_and_config_checks():
    assert RestorerConfig().latency_s <= 0.04
    with pytest.raises(ConfigError, match="hop_length"):
        RestorerConfig(n_fft=1024, hop_length=512)
    with pytest.raises(ConfigError, match="mask"):
        RestorerConfig(mask="cirm")
    assert sum(p.numel() for p in MaskCRNN(RestorerConfig()).parameters()) * 4 < 2e6
