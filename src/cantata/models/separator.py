"""The vocal / accompaniment separator: a mask U-Net over the log-magnitude STFT.

An hourglass built for CPU speed: the first level folds blocks of bins and frames into
channels (space-to-depth, 4 bins x 2 frames by default) so that no convolution runs at
full resolution, then strided convolutions halve both axes per level; the decoder
upsamples with 1x1 convolutions and depth-to-space, adds the encoder's skips, and the
output unfolds back to one mask value per bin and frame. Optionally a few lean
convolutions at full resolution then refine that mask from the input's fine spectral
detail (harmonic peaks narrower than a folded block), residual blocks deepen the
bottleneck (many weights, little compute: it has 1/256 of the bins and frames) and the
decoder's levels, and a bidirectional GRU along time at the bottleneck lets the mask
draw on the whole excerpt.
Batch norm throughout. It predicts the mask of the first stem (vocals); the second stem
(accompaniment) takes the complement, so the stems sum to the mixture. Each channel of a
multichannel input is an item of its own, so one net serves mono and stereo.

Shapes: magnitude (batch, channels, freq, frames) -> mask (batch, channels, freq, frames)
(complex for ``"cirm"``); :meth:`MaskUNet.estimate` maps a complex mixture STFT to the
stem STFTs (batch, stems, channels, freq, frames). Any ``freq`` and ``frames`` work: the
input is padded to a multiple of the total stride and the output cropped back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig
from cantata.models.masks import apply_masks, check_kind, complement
from cantata.models.registry import register

#: the STFT every separator sees: 16 kHz, 64 ms windows, 16 ms hop
SEPARATOR_FEATURES = FeatureConfig(kind="stft_mag", sample_rate=16000, n_fft=1024,
                                   hop_length=256)
#: Bytes per activation of a refinement slice without gradients: below glibc's largest
#: mmap threshold (32 MiB), so the buffers can be reused from the heap
SLICE_BYTES = 24 * 2**20


@dataclass(frozen=True)
class SeparatorConfig:
    """A mask U-Net.

    Attributes:
        features: the STFT at the model rate (``kind="stft_mag"``).
        stems: names of the outputs; the first is masked, the second is the rest.
        mask: ``"irm"`` (real, [0, 1]), ``"psm"`` (real, [0, mask_limit]) or ``"cirm"``
            (complex, both parts in [-mask_limit, mask_limit]).
        mask_limit: bound of psm and cirm masks.
        channels: output channels of each encoder level.
        strides: (freq, time) reduction of each level: folded into channels for the
            first, a strided convolution for the others.
        level_convs: extra 3x3 convolutions after the downsampling of every level but
            the first.
        log_eps: the input is ``log(magnitude + log_eps)``.
        refine_channels: width of the full-resolution refinement (0: none, the mask is
            the unfolded coarse output).
        refine_guides: feature maps the coarse net hands the refinement per bin and frame.
        context_units: units per direction of a bidirectional GRU running along time at
            the bottleneck, one sequence per frequency row, so the mask can draw on the
            whole excerpt (0: none).
        bottleneck_blocks: residual blocks (two 3x3 convolutions) after the last level's
            downsampling, before the time context (0: none).
        decoder_blocks: residual blocks after each decoder level's upsampling (0: none);
            a block at any level has the multiply-adds of a bottleneck block (the
            channels double as the bins and frames halve), but the finer levels' blocks
            take longer on CPUs.
        phase_steps: consistency steps given to the vocals' masked STFT before it is
            resynthesised (:mod:`cantata.separate.phase`; 0: the mixture's phase); the
            accompaniment is then the mixture minus the vocals.
    """

    features: FeatureConfig = SEPARATOR_FEATURES
    stems: tuple[str, ...] = ("vocals", "accompaniment")
    mask: str = "irm"
    mask_limit: float = 2.0
    channels: tuple[int, ...] = (16, 32, 64, 128)
    strides: tuple[tuple[int, int], ...] = ((4, 2), (2, 2), (2, 2), (2, 2))
    level_convs: int = 1
    log_eps: float = 1e-3
    refine_channels: int = 0
    refine_guides: int = 2
    context_units: int = 0
    bottleneck_blocks: int = 0
    decoder_blocks: int = 0
    phase_steps: int = 0

    def __post_init__(self) -> None:
        check_kind(self.mask)
        if self.features.kind != "stft_mag":
            raise ConfigError(f"a separator needs stft_mag features, got {self.features.kind!r}")
        if len(self.stems) != 2 or len(set(self.stems)) != 2:
            raise ConfigError(f"stems must be two distinct names, got {self.stems}")
        if not self.channels or len(self.channels) != len(self.strides):
            raise ConfigError(f"channels {self.channels} and strides {self.strides} must be "
                              "non-empty and of equal length")
        if any(len(s) != 2 or min(s) < 1 for s in self.strides):
            raise ConfigError(f"strides must be (freq, time) pairs >= 1, got {self.strides}")
        if self.mask_limit < 1 or self.log_eps <= 0 or self.level_convs < 0:
            raise ConfigError("need mask_limit >= 1, log_eps > 0 and level_convs >= 0")
        if min(self.refine_channels, self.refine_guides, self.context_units,
               self.bottleneck_blocks, self.decoder_blocks, self.phase_steps) < 0:
            raise ConfigError("need refine_channels, refine_guides, context_units, "
                              "bottleneck_blocks, decoder_blocks and phase_steps >= 0")

    @property
    def n_freq(self) -> int:
        return self.features.n_fft // 2 + 1

    @property
    def total_stride(self) -> tuple[int, int]:
        """(freq, time) factor the input is padded to a multiple of."""
        return (math.prod(s[0] for s in self.strides), math.prod(s[1] for s in self.strides))


def _conv_bn(in_ch: int, out_ch: int, kernel: int, stride: tuple[int, int]) -> nn.Sequential:
    padding = 1 if kernel > 1 else 0
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=False),
                         nn.BatchNorm2d(out_ch), nn.LeakyReLU(0.2, inplace=True))


def fold(x: torch.Tensor, factor: tuple[int, int]) -> torch.Tensor:
    """Space-to-depth: (N, C, F, T) -> (N, C * sf * st, F / sf, T / st)."""
    n, c, freq, frames = x.shape
    sf, st = factor
    x = x.reshape(n, c, freq // sf, sf, frames // st, st)
    return x.permute(0, 1, 3, 5, 2, 4).reshape(n, c * sf * st, freq // sf, frames // st)


def unfold(x: torch.Tensor, factor: tuple[int, int]) -> torch.Tensor:
    """Depth-to-space, the inverse of :func:`fold`."""
    n, c, freq, frames = x.shape
    sf, st = factor
    x = x.reshape(n, c // (sf * st), sf, st, freq, frames)
    return x.permute(0, 1, 4, 2, 5, 3).reshape(n, c // (sf * st), freq * sf, frames * st)


class Down(nn.Module):
    """Strided conv (kernel = stride + 2), then ``n_convs`` 3x3 convs; BN + LeakyReLU each.

    Shape: (N, in_ch, F, T) -> (N, out_ch, F / sf, T / st) for F, T multiples of the stride.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: tuple[int, int], n_convs: int) -> None:
        super().__init__()
        down = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, (stride[0] + 2, stride[1] + 2), stride, 1, bias=False),
            nn.BatchNorm2d(out_ch), nn.LeakyReLU(0.2, inplace=True))
        self.layers = nn.Sequential(down, *(_conv_bn(out_ch, out_ch, 3, (1, 1))
                                            for _ in range(n_convs)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Up(nn.Module):
    """1x1 conv and depth-to-space (a transposed conv with kernel = stride, but fast on
    CPUs), add the skip, then a 3x3 conv, BN, ReLU.

    Shape: (N, in_ch, F, T), skip (N, out_ch, F * sf, T * st) -> like the skip.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: tuple[int, int]) -> None:
        super().__init__()
        self.stride = stride
        self.up = nn.Conv2d(in_ch, out_ch * stride[0] * stride[1], 1)
        self.conv = nn.Sequential(nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(unfold(self.up(x), self.stride) + skip)


class Refine(nn.Module):
    """Full-resolution mask refinement: two (5 bins x 3 frames) convs, BN + LeakyReLU,
    and a 1x1 output conv that starts at zero, so a new refinement leaves the coarse mask
    as it was (a trained coarse net can be extended and fine-tuned).

    In eval mode without gradients it runs on slices along time of at most
    :data:`SLICE_BYTES` per activation, each with ``halo`` frames of context on either
    side, so the result is the same as in one piece: its 16-channel full-resolution
    activations (128 MB each for 30 s of stereo) would otherwise be fresh memory from the
    kernel at every window (see :func:`cantata.allocator.keep_window_buffers`).

    Shape: (N, in_ch, F, T) -> (N, out_ch, F, T), a correction to the mask logits.
    """

    def __init__(self, in_ch: int, width: int, out_ch: int) -> None:
        super().__init__()
        self.width, self.out_ch = width, out_ch
        self.layers = nn.Sequential(
            nn.Conv2d(in_ch, width, (5, 3), padding=(2, 1), bias=False),
            nn.BatchNorm2d(width), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, width, (5, 3), padding=(2, 1), bias=False),
            nn.BatchNorm2d(width), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, out_ch, 1))
        self.halo = sum(m.kernel_size[1] // 2 for m in self.layers if isinstance(m, nn.Conv2d))
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, freq, frames = x.shape
        step = max(8, SLICE_BYTES // (n * self.width * freq * x.element_size()))
        if self.training or torch.is_grad_enabled() or torch.jit.is_tracing() \
                or frames <= step + 2 * self.halo:
            return self.layers(x)  # batch norm's statistics (training) need one piece
        out = x.new_empty((n, self.out_ch, freq, frames))
        for start in range(0, frames, step):
            stop = min(frames, start + step)
            first, last = max(0, start - self.halo), min(frames, stop + self.halo)
            y = self.layers(x[..., first:last])
            out[..., start:stop] = y[..., start - first:stop - first]
        return out


class ResidualBlock(nn.Module):
    """``x + (conv, BN, LeakyReLU, conv, BN)(x)`` with 3x3 convolutions; the last norm's
    scale and shift start at zero, so a new block leaves the net's output as it was.

    Shape: (N, C, F, T) -> (N, C, F, T).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            *_conv_bn(channels, channels, 3, (1, 1)),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        nn.init.zeros_(self.layers[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


class TimeContext(nn.Module):
    """A residual bidirectional GRU along time for every frequency row; the output
    projection starts at zero, so a new context leaves the net's output as it was.

    Shape: (N, C, F, T) -> (N, C, F, T).
    """

    def __init__(self, channels: int, units: int) -> None:
        super().__init__()
        self.gru = nn.GRU(channels, units, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * units, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, freq, frames = x.shape
        seq = x.permute(0, 2, 3, 1).reshape(n * freq, frames, c)  # (N * F, T, C)
        delta = self.out(self.gru(seq)[0])  # (N * F, T, C)
        return x + delta.reshape(n, freq, frames, c).permute(0, 3, 1, 2)


@register("separator", SeparatorConfig)
class MaskUNet(nn.Module):
    """Mask U-Net separator; see the module docstring for shapes.

    The log-magnitude is normalised per frequency bin with ``input_mean`` and
    ``input_std``, fitted on training data (:meth:`set_input_stats`). The first stride
    folds bins and frames into channels (space-to-depth) and the output unfolds them
    again, so nothing but that reshaping runs at full resolution.
    """

    def __init__(self, config: SeparatorConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("input_mean", torch.zeros(config.n_freq))
        self.register_buffer("input_std", torch.ones(config.n_freq))
        ch, strides = config.channels, config.strides
        self.first = _conv_bn(strides[0][0] * strides[0][1], ch[0], 3, (1, 1))
        self.down = nn.ModuleList(Down(ch[k - 1], ch[k], strides[k], config.level_convs)
                                  for k in range(1, len(ch)))
        self.up = nn.ModuleList(Up(ch[k], ch[k - 1], strides[k])
                                for k in range(len(ch) - 1, 0, -1))
        self.up_blocks = nn.ModuleList(
            nn.Sequential(*(ResidualBlock(ch[k - 1]) for _ in range(config.decoder_blocks)))
            for k in range(len(ch) - 1, 0, -1))
        self.n_out = 2 if config.mask == "cirm" else 1
        self.head = nn.Conv2d(ch[0], self.n_out * strides[0][0] * strides[0][1], 1)
        self.bottleneck = nn.Sequential(*(ResidualBlock(ch[-1])
                                          for _ in range(config.bottleneck_blocks)))
        self.context = TimeContext(ch[-1], config.context_units) if config.context_units \
            else None
        self.guide: nn.Module | None = None
        self.refine: Refine | None = None
        if config.refine_channels:
            self.guide = nn.Conv2d(ch[0], config.refine_guides * strides[0][0] * strides[0][1], 1)
            self.refine = Refine(self.n_out + config.refine_guides + 1, config.refine_channels,
                                 self.n_out)
        # channels-last convolutions run about 1.8x faster on CPUs here (oneDNN), most of
        # all the lean full-resolution ones; the weights' layout makes every conv use it
        self.to(memory_format=torch.channels_last)

    def compress(self, mag: torch.Tensor) -> torch.Tensor:
        """The un-normalised network input ``log(mag + log_eps)``; shape kept."""
        return torch.log(mag + self.config.log_eps)

    def set_input_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-bin normalisation of :meth:`compress` output, fitted on data; (freq,) each."""
        self.input_mean.copy_(mean)
        self.input_std.copy_(std.clamp_min(1e-3))

    def forward(self, mag: torch.Tensor) -> torch.Tensor:
        """Raw bounded mask outputs.

        Shape: mag (batch, channels, freq, frames) -> (batch, channels, n_out, freq,
        frames), n_out = 2 (real, imaginary) for cirm, else 1.
        """
        if not torch.jit.is_tracing() and (mag.ndim != 4 or mag.shape[2] != self.config.n_freq):
            raise ShapeError(f"expected a magnitude (batch, channels, {self.config.n_freq}, "
                             f"frames), got {tuple(mag.shape)}")
        batch, channels, freq, frames = mag.shape
        x = (self.compress(mag) - self.input_mean[:, None]) / self.input_std[:, None]
        x = x.reshape(batch * channels, 1, freq, frames)  # (N, 1, F, T)
        stride_f, stride_t = self.config.total_stride
        x = F.pad(x, (0, -frames % stride_t, 0, -freq % stride_f))  # (N, 1, F', T')
        patch = self.config.strides[0]
        y = self.first(fold(x, patch))  # (N, ch0, F' / pf, T' / pt)
        skips = [y]
        for down in self.down:
            y = down(y)
            skips.append(y)
        y = self.bottleneck(y)
        if self.context is not None:
            y = self.context(y)
        for up, blocks, skip in zip(self.up, self.up_blocks, reversed(skips[:-1]), strict=True):
            y = blocks(up(y, skip))
        logits = unfold(self.head(y), patch)  # (N, n_out, F', T')
        if self.refine is not None and self.guide is not None:
            guides = unfold(self.guide(y), patch)  # (N, guides, F', T')
            logits = logits + self.refine(torch.cat([logits, guides, x], dim=1))
        y = logits[..., :freq, :frames].reshape(batch, channels, self.n_out, freq, frames)
        if self.config.mask == "irm":
            return torch.sigmoid(y)
        if self.config.mask == "psm":
            return self.config.mask_limit * torch.sigmoid(y)
        return self.config.mask_limit * torch.tanh(y)

    def mask(self, mag: torch.Tensor) -> torch.Tensor:
        """The first stem's mask; (batch, channels, freq, frames), complex for cirm."""
        y = self(mag)
        return torch.complex(y[:, :, 0], y[:, :, 1]) if self.n_out == 2 else y[:, :, 0]

    def estimate(self, spec: torch.Tensor) -> torch.Tensor:
        """Stem STFTs from the mixture STFT at the model rate.

        Shape: spec (batch, channels, freq, frames) complex -> (batch, stems, channels,
        freq, frames) complex, stems in ``config.stems`` order; they sum to ``spec``.
        """
        if not spec.is_complex():
            raise ShapeError(f"estimate needs a complex STFT, got dtype {spec.dtype}")
        return apply_masks(spec, complement(self.mask(spec.abs())))


def debug_separator(mask: str = "irm") -> MaskUNet:
    """A random-weight separator of a few kB (P8): same code paths, meaningless output."""
    config = SeparatorConfig(mask=mask, channels=(4, 8), strides=((4, 1), (2, 2)),
                             level_convs=0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return MaskUNet(config).eval()
