"""Frame classifiers over log-mel spectrograms: the speech detector and the singing CRNN.

Both share one convolutional front: blocks of gated linear units (two parallel
convolutions, one gating the other: ``Y = (W*X + b) * sigmoid(V*X + c)``), batch norm,
and max-pooling over frequency only, so every frame keeps its own output. The
speech detector (source task) classifies each frame from a block of 2L+1 frames
around it; the singing detector (target task) puts a recurrent layer on the front.
Transfer copies the bottom front blocks from the first to the second
(:mod:`cantata.detect.transfer`).

Shapes: features (batch, n_mels, frames) -> logits (batch, n_labels, frames); the
frame count is kept exactly. Features are normalised inside the model with
statistics fitted on the training data (``input_mean``, ``input_std``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cantata.errors import ConfigError, ShapeError
from cantata.models.registry import register

#: frames (summed over the batch) the front runs at once at inference: larger tensors fall
#: out of the CPU caches and run about twice as slowly per frame (docs/svd.md, speed)
TILE_FRAMES = 1024


@dataclass(frozen=True)
class FrontConfig:
    """The convolutional front shared by both detectors.

    Attributes:
        n_mels: input mel bands.
        channels: output channels of each GLU block.
        freq_pool: max-pool factor over frequency after each block (1 = none).
        kernel_size: square kernel of every convolution (time x frequency).
        causal: pad time on the left only, so no frame sees the future.
        dropout: dropout after the front.
    """

    n_mels: int = 80
    channels: tuple[int, ...] = (16, 32, 64)
    freq_pool: tuple[int, ...] = (4, 4, 2)
    kernel_size: int = 3
    causal: bool = False
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.freq_pool) or not self.channels:
            raise ConfigError(f"channels {self.channels} and freq_pool {self.freq_pool} must be "
                              "non-empty and of equal length")
        if self.out_bands < 1:
            raise ConfigError(f"freq_pool {self.freq_pool} pools {self.n_mels} bands to nothing")

    @property
    def out_bands(self) -> int:
        bands = self.n_mels
        for pool in self.freq_pool:
            bands //= pool
        return bands

    @property
    def out_features(self) -> int:
        return self.channels[-1] * self.out_bands


class GLUBlock(nn.Module):
    """Gated conv -> batch norm -> GLU -> max-pool over frequency.

    Shape: (batch, in_ch, freq, frames) -> (batch, out_ch, freq // pool, frames).
    """

    def __init__(self, in_ch: int, out_ch: int, *, kernel_size: int, freq_pool: int,
                 causal: bool) -> None:
        super().__init__()
        self.kernel_size, self.causal = kernel_size, causal
        self.conv = nn.Conv2d(in_ch, 2 * out_ch, kernel_size, padding=0)
        self.norm = nn.BatchNorm2d(2 * out_ch)
        self.freq_pool = freq_pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        time_pad = (k - 1, 0) if self.causal else (k // 2, k - 1 - k // 2)
        x = F.pad(x, (*time_pad, k // 2, k - 1 - k // 2))  # (left, right) time, then freq
        return pool_freq(F.glu(self.norm(self.conv(x)), dim=1), self.freq_pool)


def pool_freq(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Max over groups of ``factor`` bands (a remainder is dropped), as ``MaxPool2d((factor,
    1))`` but as a reshape and a max: many times faster on CPUs.

    Shape: (batch, channels, freq, frames) -> (batch, channels, freq // factor, frames).
    """
    if factor == 1:
        return x
    bands = x.shape[2] // factor
    grouped = x[:, :, : bands * factor].reshape(x.shape[0], x.shape[1], bands, factor, -1)
    return grouped.amax(dim=3)


class ConvFront(nn.Module):
    """Normalise, then the GLU blocks; (batch, n_mels, frames) -> (batch, C * F', frames)."""

    def __init__(self, config: FrontConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("input_mean", torch.zeros(config.n_mels))
        self.register_buffer("input_std", torch.ones(config.n_mels))
        ins = (1, *config.channels[:-1])
        self.blocks = nn.ModuleList(
            GLUBlock(i, o, kernel_size=config.kernel_size, freq_pool=p, causal=config.causal)
            for i, o, p in zip(ins, config.channels, config.freq_pool, strict=True))
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.ndim != 3 or features.shape[1] != self.config.n_mels:
            raise ShapeError(f"expected features (batch, {self.config.n_mels}, frames), "
                             f"got {tuple(features.shape)}")
        batch, _, frames = features.shape
        x = (features - self.input_mean[:, None]) / self.input_std[:, None]
        x = x.unsqueeze(1)  # (batch, 1, n_mels, frames)
        if self.training or batch * frames <= TILE_FRAMES or torch.jit.is_tracing():
            return self.dropout(self._blocks(x))
        return torch.cat(list(self._tiles(x, max(TILE_FRAMES // batch, 16))), dim=-1)

    def _blocks(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 1, n_mels, frames) -> (batch, C * F', frames)."""
        for block in self.blocks:
            x = block(x)
        return x.reshape(x.shape[0], -1, x.shape[-1])

    def _tiles(self, x: torch.Tensor, tile: int) -> Iterator[torch.Tensor]:
        """The front over ``tile`` frames at a time, each with the frames its convolutions
        reach on either side, so the result equals the front over the whole input."""
        k, n = self.config.kernel_size, len(self.blocks)
        reach = ((k - 1) * n, 0) if self.config.causal else (k // 2 * n, (k - 1 - k // 2) * n)
        frames = x.shape[-1]
        for start in range(0, frames, tile):
            low, high = max(0, start - reach[0]), min(frames, start + tile + reach[1])
            yield self._blocks(x[..., low:high])[..., start - low: start - low + tile]

    def set_input_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-band normalisation fitted on training features; (n_mels,) each."""
        self.input_mean.copy_(mean)
        self.input_std.copy_(std.clamp_min(1e-3))


@dataclass(frozen=True)
class SpeechDetectorConfig:
    """The source-task model: per-frame classification from 2L+1 frames of context.

    Attributes:
        front: the convolutional front.
        context_frames: L; the classifier sees frames t-L..t+L (t-2L..t when causal).
        dense_units: width of the ReLU dense layer over the context block.
        labels: one sigmoid output per label (a 2-way softmax is the sigmoid of the
            logit difference, so ``("speech",)`` is the patent's 2-way output).
    """

    front: FrontConfig = FrontConfig()
    context_frames: int = 5
    dense_units: int = 128
    labels: tuple[str, ...] = ("speech",)


@register("speech-detector", SpeechDetectorConfig)
class SpeechDetector(nn.Module):
    """CNN speech detector; (batch, n_mels, frames) -> logits (batch, n_labels, frames)."""

    def __init__(self, config: SpeechDetectorConfig) -> None:
        super().__init__()
        self.config = config
        self.front = ConvFront(config.front)
        width = 2 * config.context_frames + 1
        self.context_pad = (width - 1, 0) if config.front.causal else (config.context_frames,) * 2
        # a dense layer over the flattened (2L+1)-frame block == a conv1d of that width
        self.dense = nn.Conv1d(config.front.out_features, config.dense_units, width)
        self.out = nn.Conv1d(config.dense_units, len(config.labels), 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = F.pad(self.front(features), self.context_pad)
        return self.out(F.relu(self.dense(x)))


@dataclass(frozen=True)
class SingingDetectorConfig:
    """The target-task CRNN.

    Attributes:
        front: the convolutional front (same shape as the speech detector's, so its
            bottom blocks can be transferred).
        rnn_hidden: GRU units per direction.
        rnn_layers: stacked GRU layers.
        labels: ``("vocal",)`` (binary) or ``("vocal", "accompaniment", "silence")``
            (multi-label: a frame may carry several).
    """

    front: FrontConfig = FrontConfig()
    rnn_hidden: int = 64
    rnn_layers: int = 1
    labels: tuple[str, ...] = ("vocal",)


@register("singing-detector", SingingDetectorConfig)
class SingingDetector(nn.Module):
    """CRNN singing detector; bidirectional GRU, or unidirectional when ``front.causal``.

    Shape: (batch, n_mels, frames) -> logits (batch, n_labels, frames).
    """

    def __init__(self, config: SingingDetectorConfig) -> None:
        super().__init__()
        self.config = config
        self.front = ConvFront(config.front)
        bidirectional = not config.front.causal
        self.rnn = nn.GRU(config.front.out_features, config.rnn_hidden,
                          num_layers=config.rnn_layers, batch_first=True,
                          bidirectional=bidirectional)
        self.out = nn.Linear(config.rnn_hidden * (2 if bidirectional else 1), len(config.labels))
        self.frozen_blocks = 0  # set by transfer in "fixed" mode; those blocks stay in eval mode

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.front(features).transpose(1, 2)  # (batch, frames, C * F')
        x, _ = self.rnn(x)
        return self.out(x).transpose(1, 2)  # (batch, n_labels, frames)

    def train(self, mode: bool = True) -> SingingDetector:
        super().train(mode)
        for block in self.front.blocks[: self.frozen_blocks]:
            block.eval()  # frozen layers keep their batch-norm statistics too
        return self
