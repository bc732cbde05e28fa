"""Batch norm folded into the convolution before it, for inference.

In eval mode a ``BatchNorm2d`` is a per-channel affine map, so a convolution followed by
one equals a single convolution with scaled weights and a bias. Folding it saves a pass
over every activation: the separator's forward pass runs about 1.2x faster on CPUs, with
the same outputs to float rounding (see ``docs/separation.md``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` with every ``BatchNorm2d`` that directly follows a
    ``Conv2d`` inside an ``nn.Sequential`` folded into that convolution (the norm becomes
    ``nn.Identity``). ``model`` itself is left as it was, trainable.

    Channels-last convolution weights stay channels-last. Shapes are unchanged.
    """
    fused = copy.deepcopy(model).eval()
    for seq in fused.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        names = list(seq._modules)
        for conv_name, norm_name in zip(names, names[1:], strict=False):
            conv, norm = seq._modules[conv_name], seq._modules[norm_name]
            if not (isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d)):
                continue
            merged = fuse_conv_bn_eval(conv, norm)
            if conv.weight.is_contiguous(memory_format=torch.channels_last):
                merged.to(memory_format=torch.channels_last)
            seq._modules[conv_name] = merged
            seq._modules[norm_name] = nn.Identity()
    return fused
