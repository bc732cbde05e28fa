"""Multichannel Wiener filtering of masked stems."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.models.separator import debug_separator
from cantata.separate.spectral import SpectralSeparator
from cantata.separate.wiener import _solve, wiener


def _sdr(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    return float(10 * torch.log10(reference.abs().pow(2).sum()
                                  / (estimate - reference).abs().pow(2).sum()))


def _panned_pair(seed: int = 0) -> torch.Tensor:
    """Two random-spectrum sources, one in the centre, one to the left: (2, 2, F, T)."""
    g = torch.Generator().manual_seed(seed)
    shape = (48, 150)
    sources = [torch.randn(shape, dtype=torch.complex64, generator=g)
               * torch.rand(shape, generator=g) for _ in range(2)]
    pans = torch.tensor([[1.0, 1.0], [1.0, 0.2]])
    return torch.stack([p[:, None, None] * s for p, s in zip(pans, sources, strict=True)])


def test_mono_one_iteration_is_the_power_ratio_mask():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 1, 9, 11, dtype=torch.complex64, generator=g)
    m = torch.rand(2, 1, 9, 11, generator=g)
    out = wiener(x, torch.stack([m * x, (1 - m) * x], dim=1), iterations=1)
    power = m**2 / (m**2 + (1 - m) ** 2)
    torch.testing.assert_close(out[:, 0], power * x, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out.sum(1), x, atol=1e-5, rtol=1e-4)


def test_stereo_iterations_use_where_the_sources_sit():
    stems = _panned_pair()
    mix = stems.sum(0)
    true_irm = stems[0].abs() / (stems.abs().sum(0) + 1e-9)
    blurred = 0.25 + 0.5 * true_irm  # a poor mask: halfway to 0.5 everywhere
    initial = torch.stack([blurred * mix, (1 - blurred) * mix])
    scores = [_sdr(wiener(mix, initial, iterations=n)[0], stems[0]) for n in (0, 1, 3)]
    assert scores[2] > scores[1] > scores[0] + 5, scores  # measured 6.6, 14.0, 19.3 dB
    torch.testing.assert_close(wiener(mix, initial, iterations=3).sum(0), mix,
                               atol=1e-4, rtol=1e-4)


def test_zero_iterations_and_bad_arguments():
    stems = _panned_pair()
    mix = stems.sum(0)
    assert wiener(mix, stems, iterations=0) is stems
    with pytest.raises(ShapeError, match="do not fit"):
        wiener(mix[:1], stems)
    with pytest.raises(ConfigError, match=">= 0"):
        wiener(mix, stems, iterations=-1)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_separator_with_wiener_keeps_shape_and_sum(rate):
    t = np.arange(int(1.1 * rate)) / rate
    left = np.sin(2 * np.pi * 440 * t) + 0.3 * np.random.default_rng(0).standard_normal(t.size)
    samples = np.stack([left, 0.5 * left + 0.1 * np.sin(2 * np.pi * 97 * t)]).astype(np.float32)
    model = debug_separator("irm")
    plain = SpectralSeparator(model).separate_window(samples, rate)
    refined = SpectralSeparator(model, wiener=1).separate_window(samples, rate)
    assert refined.shape == plain.shape == (2, 2, samples.shape[-1])
    np.testing.assert_allclose(refined.sum(0), samples, atol=1e-5)
    assert np.abs(refined - plain).max() > 1e-3


def test_separator_refuses_bad_iterations():
    with pytest.raises(ConfigError, match="wiener"):
        SpectralSeparator(debug_separator("irm"), wiener=-1)


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_small_hermitian_solves_match_a_general_solver(channels):
    g = torch.Generator().manual_seed(channels)
    m = torch.randn(7, channels, channels, dtype=torch.complex64, generator=g)
    a = m @ m.mH + torch.eye(channels)  # Hermitian positive definite, like a covariance
    b = torch.randn(7, channels, dtype=torch.complex64, generator=g)
    expected = torch.linalg.solve(a, b.unsqueeze(-1))[..., 0]
    assert torch.allclose(_solve(a, b), expected, atol=1e-5)


def test_stereo_covariances_match_the_general_outer_product():
    from cantata.separate.wiener import _local_gaussian_model

    g = torch.Generator().manual_seed(0)
    y = torch.randn(3, 2, 2, 5, 7, dtype=torch.complex64, generator=g)
    v, spatial = _local_gaussian_model(y)
    outer = torch.einsum("...cft,...dft->...fcd", y, y.conj())
    torch.testing.assert_close(spatial, outer / v.sum(-1)[..., None, None], rtol=1e-5, atol=1e-6)


def test_filtering_in_frame_blocks_changes_nothing(monkeypatch):
    from cantata.separate import wiener as module

    stems = _panned_pair(seed=2)
    mix = stems.sum(0)
    initial = torch.stack([0.6 * mix, 0.4 * mix]) + 0.1 * stems
    monkeypatch.setattr(module, "_BLOCK_FRAMES", 10_000)
    whole = wiener(mix, initial, iterations=2)
    monkeypatch.setattr(module, "_BLOCK_FRAMES", 7)  # 150 frames: 21 full blocks and a part
    torch.testing.assert_close(wiener(mix, initial, iterations=2), whole)
