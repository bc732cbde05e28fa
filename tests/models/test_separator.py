"""The mask U-Net separator: shapes for any length, mask ranges, checkpoints, debug model."""

from __future__ import annotations

import pytest
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig, stft
from cantata.models import separator
from cantata.models.registry import MODEL_MODULES, build, load_checkpoint, save_checkpoint
from cantata.models.separator import MaskUNet, Refine, SeparatorConfig, debug_separator

TINY = {"channels": (4, 8), "strides": ((4, 2), (2, 2)), "level_convs": 0}


def _spec(batch: int, channels: int, n: int, seed: int = 0) -> torch.Tensor:
    wav = torch.randn(batch, channels, n, generator=torch.Generator().manual_seed(seed)) * 0.1
    return stft(wav, n_fft=1024, hop_length=256)  # (B, C, 513, 1 + n // 256)


@pytest.mark.parametrize(("mask", "channels", "n"), [
    ("irm", 1, 100), ("irm", 2, 32000), ("psm", 2, 4000), ("psm", 1, 7 * 256 + 3),
    ("cirm", 1, 7 * 256 + 3), ("cirm", 2, 4000)])
def test_any_length_gives_stems_that_sum_to_the_mixture(mask, channels, n):
    model = MaskUNet(SeparatorConfig(mask=mask, **TINY)).eval()
    spec = _spec(2, channels, n)
    with torch.no_grad():
        raw = model(spec.abs())
        stems = model.estimate(spec)
    frames = spec.shape[-1]
    assert raw.shape == (2, channels, 2 if mask == "cirm" else 1, 513, frames)
    assert stems.shape == (2, 2, channels, 513, frames) and stems.dtype == torch.complex64
    torch.testing.assert_close(stems.sum(dim=1), spec, atol=1e-5, rtol=1e-5)
    if mask == "irm":
        assert raw.min() >= 0 and raw.max() <= 1
    elif mask == "psm":
        assert raw.min() >= 0 and raw.max() <= 2
    else:
        assert raw.abs().max() <= 2 and model.mask(spec.abs()).is_complex()


def test_other_stft_sizes_and_a_deep_net_work():
    config = SeparatorConfig(features=FeatureConfig(kind="stft_mag", n_fft=512, hop_length=128),
                             channels=(8, 8, 8, 8, 8),
                             strides=((4, 1), (2, 2), (2, 2), (2, 2), (3, 3)))
    model = MaskUNet(config).eval()
    wav = torch.randn(1, 1, 5000)
    spec = stft(wav, n_fft=512, hop_length=128)  # 257 bins, 40 frames: not stride multiples
    with torch.no_grad():
        assert model.estimate(spec).shape == (1, 2, 1, 257, 40)


def test_channels_are_separated_independently():
    model = MaskUNet(SeparatorConfig(**TINY)).eval()
    spec = _spec(1, 2, 8000)
    with torch.no_grad():
        both = model.mask(spec.abs())
        left = model.mask(spec[:, :1].abs())
    torch.testing.assert_close(both[:, :1], left)


def test_input_normalisation_changes_the_output_and_is_saved(tmp_path):
    model = MaskUNet(SeparatorConfig(**TINY)).eval()
    spec = _spec(1, 1, 8000)
    with torch.no_grad():
        before = model.mask(spec.abs())
        model.set_input_stats(torch.full((513,), -3.0), torch.full((513,), 2.0))
        after = model.mask(spec.abs())
    assert not torch.allclose(before, after)
    path = save_checkpoint(tmp_path, model, name="separator", config=model.config, meta={})
    loaded, checkpoint = load_checkpoint(path)
    assert checkpoint.name == "separator" and isinstance(loaded, MaskUNet)
    assert loaded.config == model.config
    with torch.no_grad():
        torch.testing.assert_close(loaded.mask(spec.abs()), after)


@pytest.mark.parametrize("mask", ["irm", "cirm"])
def test_refinement_context_and_residual_blocks_start_as_no_ops_and_then_learn(mask):
    base = MaskUNet(SeparatorConfig(mask=mask, **TINY)).eval()
    grown = MaskUNet(SeparatorConfig(mask=mask, refine_channels=4, context_units=3,
                                     bottleneck_blocks=2, decoder_blocks=1, **TINY))
    grown.load_state_dict(base.state_dict(), strict=False)
    spec = _spec(2, 2, 7 * 256 + 3)
    with torch.no_grad():
        torch.testing.assert_close(grown.eval()(spec.abs()), base(spec.abs()))
    grown.train()
    loss = grown(spec.abs()).square().mean()
    loss.backward()
    assert grown.refine.layers[-1].weight.grad.abs().sum() > 0
    assert grown.context.out.weight.grad.abs().sum() > 0
    assert grown.bottleneck[1].layers[-1].weight.grad.abs().sum() > 0  # the zero scale
    assert all(blocks[0].layers[-1].weight.grad.abs().sum() > 0 for blocks in grown.up_blocks)
    with torch.no_grad():
        grown.refine.layers[-1].weight.fill_(0.1)
        grown.context.out.weight.fill_(0.1)
        grown.bottleneck[1].layers[-1].weight.fill_(0.1)
        grown.up_blocks[-1][0].layers[-1].weight.fill_(0.1)
        changed = grown.eval()(spec.abs())
    assert changed.shape == base(spec.abs()).shape
    assert not torch.allclose(changed, base(spec.abs()))
    with torch.no_grad():
        torch.testing.assert_close(grown.estimate(spec).sum(dim=1), spec, atol=1e-5,
                                   rtol=1e-5)


def test_refinement_in_slices_equals_it_in_one_piece(monkeypatch):
    torch.manual_seed(0)
    refine = Refine(3, 4, 1).eval()
    for conv in (m for m in refine.layers if isinstance(m, torch.nn.Conv2d)):
        torch.nn.init.normal_(conv.weight, std=0.5)
    x = torch.randn(2, 3, 9, 61)
    whole = refine(x).detach()  # with gradients: one piece
    monkeypatch.setattr(separator, "SLICE_BYTES", 1)  # slices of 8 frames
    calls = []
    refine.layers.register_forward_hook(lambda module, args, out: calls.append(out.shape[-1]))
    with torch.no_grad():
        sliced = refine(x)
    assert refine.halo == 2 and len(calls) == 8 and max(calls) == 8 + 2 * 2
    torch.testing.assert_close(sliced, whole, rtol=1e-6, atol=1e-6)
    calls.clear()
    with torch.no_grad():
        refine.train()(x)  # batch statistics: one piece
    assert calls == [61]


def test_registered_and_lazily_importable():
    assert MODEL_MODULES["separator"] == "cantata.models.separator"
    model = build("separator", {"mask": "psm", "channels": [4, 8], "strides": [[4, 2], [2, 2]]})
    assert isinstance(model, MaskUNet) and model.config.strides == ((4, 2), (2, 2))


def test_default_size_is_lean():
    n_params = sum(p.numel() for p in MaskUNet(SeparatorConfig()).parameters())
    assert 300_000 < n_params < 1_500_000


def test_debug_model_is_tiny_and_deterministic():
    a, b = debug_separator(), debug_separator("cirm")
    n_bytes = sum(t.numel() * t.element_size() for t in a.state_dict().values())
    assert n_bytes < 16_000 and not a.training
    assert b.config.mask == "cirm"
    torch.testing.assert_close(a.state_dict(), debug_separator().state_dict())


def test_bad_configs_and_inputs():
    with pytest.raises(ConfigError, match="mask"):
        SeparatorConfig(mask="ibm")
    with pytest.raises(ConfigError, match="stems"):
        SeparatorConfig(stems=("vocals",))
    with pytest.raises(ConfigError, match="stft_mag"):
        SeparatorConfig(features=FeatureConfig(kind="logmel"))
    with pytest.raises(ConfigError, match="equal length"):
        SeparatorConfig(channels=(4, 8), strides=((2, 2),))
    with pytest.raises(ConfigError, match="refine_channels"):
        SeparatorConfig(refine_channels=-1)
    model = debug_separator()
    with pytest.raises(ShapeError, match="513"):
        model(torch.ones(1, 1, 100, 10))
    with pytest.raises(ShapeError, match="complex"):
        model.estimate(torch.ones(1, 1, 513, 10))
