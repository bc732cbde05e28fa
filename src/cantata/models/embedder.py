"""The music embedder: a residual CNN from a few seconds of features to a point in R^d.

:class:`EmbeddingSystem` is what trains and what a checkpoint holds: the embedding
generator (:class:`EmbeddingNet`, the only part inference uses), the prior discriminator
that tells its embeddings from samples of N(0, I) (when trained with the adversarial
prior), and the adjacency discriminator of the adjacency system (two embeddings
concatenated -> adjacent or not). Calling the system embeds.

Shapes: features (batch, n_features, frames) -> embeddings (batch, dim). Any number of
frames works (global pooling over time); ``segment_s`` is the length it trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig
from cantata.models.registry import register

#: log-mel at 16 kHz, 20 ms hop, 64 bands: what the shipped embedder sees
EMBEDDER_FEATURES = FeatureConfig(kind="logmel", sample_rate=16000, n_fft=1024,
                                  hop_length=320, n_mels=64)
SYSTEMS = ("dssm", "adjacency")


@dataclass(frozen=True)
class EmbedderConfig:
    """An embedding system.

    Attributes:
        features: the input representation (log-mel, MFCC, chroma or STFT magnitude).
        segment_s: seconds of audio per embedding.
        dim: embedding size.
        channels: output channels of the stem (a strided convolution that halves frequency
            and time) and of each residual stage (each halves them again).
        system: ``"dssm"`` (softmax over similarities to a positive against negatives)
            or ``"adjacency"`` (a discriminator of concatenated pairs).
        prior: train with the adversarial N(0, I) prior (adds the prior discriminator).
        hidden: width of the discriminators' hidden layers.
    """

    features: FeatureConfig = EMBEDDER_FEATURES
    segment_s: float = 3.0
    dim: int = 64
    channels: tuple[int, ...] = (16, 32, 64, 128)
    system: str = "adjacency"
    prior: bool = True
    hidden: int = 128

    def __post_init__(self) -> None:
        if self.system not in SYSTEMS:
            raise ConfigError(f"system must be one of {list(SYSTEMS)}, got {self.system!r}")
        if self.dim < 2 or len(self.channels) < 2 or self.segment_s <= 0:
            raise ConfigError(f"bad embedder config: {self}")

    @property
    def n_features(self) -> int:
        f = self.features
        return {"logmel": f.n_mels, "mfcc": f.n_mfcc, "chroma": f.n_chroma,
                "stft_mag": f.n_fft // 2 + 1}[f.kind]


class ResidualStage(nn.Module):
    """Two 3x3 convolutions with a skip, then 2x2 max-pooling: (B, cin, F, T) ->
    (B, cout, F/2, T/2)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))
        self.skip = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else nn.Identity()
        self.pool = nn.MaxPool2d(2, ceil_mode=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(torch.relu(self.body(x) + self.skip(x)))


class EmbeddingNet(nn.Module):
    """Features (batch, n_features, frames) -> embeddings (batch, dim)."""

    def __init__(self, config: EmbedderConfig) -> None:
        super().__init__()
        self.n_features = config.n_features
        self.norm = nn.BatchNorm1d(self.n_features)  # per-band standardisation
        c = config.channels
        self.stem = nn.Sequential(nn.Conv2d(1, c[0], 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(c[0]), nn.ReLU())
        self.stages = nn.Sequential(*(ResidualStage(a, b) for a, b in zip(c[:-1], c[1:],
                                                                           strict=True)))
        self.head = nn.Linear(2 * c[-1], config.dim)

    def forward(self, features: Tensor) -> Tensor:
        if features.ndim != 3 or features.shape[1] != self.n_features:
            raise ShapeError(f"embedder wants (batch, {self.n_features}, frames), got "
                             f"{tuple(features.shape)}")
        x = self.stages(self.stem(self.norm(features).unsqueeze(1)))  # (B, C, F', T')
        x = x.mean(dim=2)  # (B, C, T')
        return self.head(torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1))


def mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    """Linear layers with LeakyReLU between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


@register("embedder", EmbedderConfig)
class EmbeddingSystem(nn.Module):
    """The embedder with the discriminators it trains against; calling it embeds.

    Attributes:
        embedder: :class:`EmbeddingNet`.
        prior_disc: embedding (B, dim) -> logit (B, 1) "drawn from N(0, I)"; None
            without the prior.
        adjacency: two embeddings concatenated (B, 2 dim) -> logits (B, 2) of "not
            adjacent", "adjacent"; None for the DSSM system.
    """

    def __init__(self, config: EmbedderConfig) -> None:
        super().__init__()
        self.config = config
        self.embedder = EmbeddingNet(config)
        d, h = config.dim, config.hidden
        self.prior_disc = mlp((d, h, h, 1)) if config.prior else None
        self.adjacency = mlp((2 * d, h, 2)) if config.system == "adjacency" else None

    def forward(self, features: Tensor) -> Tensor:
        return self.embedder(features)


def debug_embedder() -> EmbeddingSystem:
    """A random-weight embedder of a few kB (P8): same code paths, meaningless output."""
    config = EmbedderConfig(dim=8, channels=(4, 8), hidden=8,
                            features=FeatureConfig(kind="logmel", sample_rate=16000,
                                                   n_fft=512, hop_length=320, n_mels=16,
                                                   n_mfcc=13))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return EmbeddingSystem(config).eval()
