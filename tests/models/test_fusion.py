"""Batch norm folded into convolutions gives the same outputs without the norms."""

import torch
from torch import nn

from cantata.models.fusion import fuse_conv_bn
from cantata.models.separator import MaskUNet, SeparatorConfig


def _trained_looking_separator() -> MaskUNet:
    """A small separator whose norms have non-trivial statistics and affine parameters."""
    torch.manual_seed(0)
    model = MaskUNet(SeparatorConfig(channels=(4, 8), strides=((2, 2), (2, 2)),
                                     refine_channels=4, context_units=4,
                                     bottleneck_blocks=1, decoder_blocks=1))
    for norm in model.modules():
        if isinstance(norm, nn.BatchNorm2d):
            norm.running_mean.uniform_(-1, 1)
            norm.running_var.uniform_(0.5, 2)
            norm.weight.data.uniform_(0.5, 1.5)
            norm.bias.data.uniform_(-0.5, 0.5)
    for param in model.parameters():  # the zero-initialised outputs too, so all paths count
        if not param.any():
            param.data.normal_(0, 0.1)
    return model.eval()


def test_fused_separator_computes_the_same_mask_without_batch_norm():
    model = _trained_looking_separator()
    mag = torch.rand(2, 2, model.config.n_freq, 37)
    fused = fuse_conv_bn(model)
    with torch.no_grad():
        expected, got = model(mag), fused(mag)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    assert torch.allclose(got, expected, atol=1e-5)
    assert expected.std() > 0.01  # the comparison is not between constants


def test_fusion_leaves_the_original_trainable_and_keeps_channels_last():
    model = _trained_looking_separator()
    n_norms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    fused = fuse_conv_bn(model.train())
    assert model.training and not fused.training
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == n_norms > 0
    convs = [m for m in fused.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last)
                         for c in convs)
