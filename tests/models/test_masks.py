"""Mask functions on synthetic spectrograms, without a model."""

from __future__ import annotations

import pytest
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.models.masks import (
    apply_masks,
    complement,
    ideal_masks,
    interpolate,
    regrid,
    to_irm,
)


def _complex(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.complex(torch.randn(*shape, generator=g), torch.randn(*shape, generator=g))


def test_irm_sums_to_one_and_separates_disjoint_stems():
    vocals, backing = _complex(2, 1, 6, 5, seed=0), _complex(2, 1, 6, 5, seed=1)
    vocals[..., :3, :] = 0  # disjoint supports: the IRM is exact
    backing[..., 3:, :] = 0
    stems = torch.stack([vocals, backing], dim=1)  # (B, S, C, F, T)
    mix = vocals + backing
    masks = ideal_masks(mix, stems, "irm")
    assert masks.shape == (2, 2, 1, 6, 5) and not masks.is_complex()
    torch.testing.assert_close(masks.sum(dim=1), torch.ones(2, 1, 6, 5))
    torch.testing.assert_close(apply_masks(mix, masks), stems)


def test_psm_is_the_projection_on_the_mixture_and_is_clipped():
    vocals, backing = _complex(1, 2, 8, 6, seed=2), _complex(1, 2, 8, 6, seed=3)
    mix = vocals + backing
    psm = ideal_masks(mix, torch.stack([vocals, backing], dim=1), "psm", limit=2.0)
    ratio = (vocals / mix).real
    assert (ratio < 0).any() and (ratio > 2).any()  # so the clipping is tested
    torch.testing.assert_close(psm[:, 0], ratio.clamp(0, 2))
    torch.testing.assert_close(psm[:, 1], (backing / mix).real.clamp(0, 2))


def test_cirm_reconstructs_the_stems_within_its_bound():
    vocals = _complex(1, 1, 4, 3, seed=4)
    mix = 2 * vocals  # S / M = 0.5 everywhere
    cirm = ideal_masks(mix, vocals[:, None], "cirm")
    assert cirm.is_complex()
    torch.testing.assert_close(apply_masks(mix, cirm)[:, 0], vocals)
    far = ideal_masks(mix, 10 * vocals[:, None], "cirm", limit=2.0)  # S / M = 5: clipped
    torch.testing.assert_close(far.real, torch.full_like(far.real, 2.0))


def test_complement_and_apply():
    mask = torch.rand(2, 2, 5, 4)
    pair = complement(mask)
    assert pair.shape == (2, 2, 2, 5, 4)
    mix = _complex(2, 2, 5, 4, seed=5)
    stems = apply_masks(mix, pair)
    torch.testing.assert_close(stems.sum(dim=1), mix)
    torch.testing.assert_close(stems[:, 0], mask * mix)
    with pytest.raises(ShapeError, match="do not fit"):
        apply_masks(mix, pair[..., :3])
    with pytest.raises(ShapeError, match="do not fit"):
        ideal_masks(mix, mix)


def test_to_irm_bounds_any_mask():
    assert torch.equal(to_irm(torch.tensor([-0.5, 0.3, 1.7])), torch.tensor([0.0, 0.3, 1.0]))
    torch.testing.assert_close(to_irm(torch.tensor([0.6 + 0.8j, 0.3j])), torch.tensor([1.0, 0.3]))


def test_unknown_kind():
    with pytest.raises(ConfigError, match="mask must be one of"):
        ideal_masks(torch.ones(1, 2, 2, dtype=torch.complex64),
                    torch.ones(1, 1, 2, 2, dtype=torch.complex64), "ibm")


def test_interpolate_is_linear_and_clamps_at_the_edges():
    x = torch.tensor([[0.0, 10.0, 20.0]])
    out = interpolate(x, torch.tensor([-1.0, 0.0, 0.25, 1.5, 2.0, 7.0]), dim=1)
    torch.testing.assert_close(out, torch.tensor([[0.0, 0.0, 2.5, 15.0, 20.0, 20.0]]))


def test_regrid_identity_and_the_extension_above_the_band():
    mask = torch.rand(1, 2, 9, 6)
    same = regrid(mask, torch.arange(9.0), torch.arange(6.0), top_band=(5, 8))
    torch.testing.assert_close(same, mask)
    wide = regrid(mask, torch.arange(0.0, 12.0, 0.5), torch.arange(6.0), top_band=(4, 6))
    assert wide.shape == (1, 2, 24, 6)
    torch.testing.assert_close(wide[..., 11, :], mask[..., 5, :] * 0.5 + mask[..., 6, :] * 0.5)
    top = mask[..., 4:7, :].mean(dim=-2)
    for row in range(13, 24):  # positions 6.5 ... 11.5 lie above bin 6
        torch.testing.assert_close(wide[..., row, :], top)


def test_regrid_extends_a_complex_mask_by_its_magnitude():
    mask = torch.full((1, 1, 4, 3), 0.6 + 0.8j, dtype=torch.complex64)
    out = regrid(mask, torch.tensor([0.0, 1.0, 5.0]), torch.tensor([0.0, 2.0]), top_band=(1, 2))
    torch.testing.assert_close(out[..., :2, :], mask[..., :2, ::2])
    torch.testing.assert_close(out[..., 2, :], torch.ones(1, 1, 2, dtype=torch.complex64))
