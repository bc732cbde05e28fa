"""The music tagger: a short-chunk CNN over log-mel with one sigmoid head per tag.

The short-chunk CNN is the field's strong, fast tagging baseline (Won et al. 2020): a few
seconds of log-mel, 3x3 convolution blocks that halve frequency and time, the frequency
axis averaged away and the time axis max-pooled, then a dense layer. The output is one
logit per tag: each row of the last layer is that tag's own binary classifier (N binary
classifiers over a shared trunk, not an N-way softmax), trained with per-tag binary
cross-entropy and decided by a per-tag threshold (:mod:`cantata.tag.postprocess`).
Song-level scores pool the chunks' probabilities (:class:`cantata.tag.Tagger`).

Shapes: features (batch, n_mels, frames) -> logits (batch, n_tags). Any number of
frames works (global pooling over time); ``chunk_s`` is the length it trains on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig
from cantata.models.registry import register

#: the MagnaTagATune top-50 vocabulary (Law et al. 2009), as the literature spells it
MTAT_TOP50: tuple[str, ...] = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir",
    "voice", "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello",
    "no voice", "weird", "country", "metal", "female voice", "choral")

#: log-mel at 16 kHz, 16 ms hop, 96 bands (musicnn's and the short-chunk CNN's input)
TAGGER_FEATURES = FeatureConfig(kind="logmel", sample_rate=16000, n_fft=512, hop_length=256,
                                n_mels=96)


@dataclass(frozen=True)
class TaggerConfig:
    """A tagger.

    Attributes:
        features: the log-mel input.
        tags: one binary head per tag, in output order (a training recipe sets them from
            its data).
        chunk_s: seconds of audio per chunk (training and inference).
        channels: output channels of each convolution block (each halves frequency and
            time).
        hidden: width of the dense layer before the heads.
        dropout: dropout before the heads (training only).
    """

    features: FeatureConfig = TAGGER_FEATURES
    tags: tuple[str, ...] = MTAT_TOP50
    chunk_s: float = 3.0
    channels: tuple[int, ...] = (64, 64, 128, 128, 256)
    hidden: int = 256
    dropout: float = 0.3

    def __post_init__(self) -> None:
        if self.features.kind != "logmel":
            raise ConfigError(f"the tagger takes logmel features, not {self.features.kind!r}")
        if not self.tags or len(set(self.tags)) != len(self.tags) or not all(self.tags):
            raise ConfigError(f"tags must be distinct, non-empty names, got {list(self.tags)}")
        if self.chunk_s <= 0 or not self.channels or self.hidden < 1 \
                or not 0 <= self.dropout < 1:
            raise ConfigError(f"bad tagger config: chunk_s={self.chunk_s}, channels="
                              f"{list(self.channels)}, hidden={self.hidden}, "
                              f"dropout={self.dropout}")

    @property
    def chunk_frames(self) -> int:
        """Feature frames per chunk."""
        return max(1, round(self.chunk_s * self.features.sample_rate
                            / self.features.hop_length))


def _block(cin: int, cout: int) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU, 2x2 max-pooling: halves frequency and time."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))


@register("tagger", TaggerConfig)
class Tagger(nn.Module):
    """Short-chunk CNN tagger; log-mel (batch, n_mels, frames) -> logits (batch, n_tags)."""

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        self.config = config
        self.n_mels = config.features.n_mels
        self.norm = nn.BatchNorm1d(self.n_mels)  # per-band standardisation
        widths = (1, *config.channels)
        self.blocks = nn.Sequential(*(_block(a, b) for a, b in zip(widths[:-1], widths[1:],
                                                                    strict=True)))
        self.dense = nn.Sequential(nn.Linear(config.channels[-1], config.hidden),
                                   nn.BatchNorm1d(config.hidden), nn.ReLU(),
                                   nn.Dropout(config.dropout))
        self.heads = nn.Linear(config.hidden, len(config.tags))

    @property
    def tags(self) -> tuple[str, ...]:
        return self.config.tags

    def forward(self, features: Tensor) -> Tensor:
        if features.ndim != 3 or features.shape[1] != self.n_mels:
            raise ShapeError(f"tagger wants (batch, {self.n_mels}, frames), got "
                             f"{tuple(features.shape)}")
        x = self.blocks(self.norm(features).unsqueeze(1))  # (B, C, F', T')
        x = x.mean(dim=2).amax(dim=2)  # frequency averaged, time max-pooled: (B, C)
        return self.heads(self.dense(x))


def debug_tagger() -> Tagger:
    """A random-weight tagger of a few kB (P8): same code paths, meaningless output."""
    config = TaggerConfig(features=FeatureConfig(kind="logmel", sample_rate=16000, n_fft=512,
                                                 hop_length=256, n_mels=16, n_mfcc=13),
                          tags=("tone", "noise", "beat"), chunk_s=1.0, channels=(4, 8),
                          hidden=8, dropout=0.0)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return Tagger(config).eval()
