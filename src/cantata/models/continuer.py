"""The continuer: a small recurrent model over embedding sequences, predicting the next one.

Shapes: embeddings (batch, steps, dim) -> predictions (batch, steps, dim), where
prediction ``t`` estimates embedding ``t + 1`` from embeddings ``0..t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from cantata.errors import ShapeError
from cantata.models.registry import register


@dataclass(frozen=True)
class ContinuerConfig:
    """Attributes:
        dim: embedding size (the embedder's).
        hidden: GRU width.
        layers: GRU layers.
        dropout: between GRU layers.
    """

    dim: int = 64
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.1


@register("continuer", ContinuerConfig)
class Continuer(nn.Module):
    """A GRU and a linear read-out predicting the residual to the next embedding."""

    def __init__(self, config: ContinuerConfig) -> None:
        super().__init__()
        self.config = config
        self.rnn = nn.GRU(config.dim, config.hidden, config.layers, batch_first=True,
                          dropout=config.dropout if config.layers > 1 else 0.0)
        self.out = nn.Linear(config.hidden, config.dim)

    def forward(self, embeddings: Tensor) -> Tensor:
        if embeddings.ndim != 3 or embeddings.shape[-1] != self.config.dim:
            raise ShapeError(f"continuer wants (batch, steps, {self.config.dim}), got "
                             f"{tuple(embeddings.shape)}")
        hidden, _ = self.rnn(embeddings)
        return embeddings + self.out(hidden)

    @torch.inference_mode()
    def extend(self, seed: Tensor, steps: int, *, noise: float = 0.0,
               generator: torch.Generator | None = None) -> Tensor:
        """Continue a seed sequence (steps0, dim) by ``steps`` predictions, feeding each
        back in (plus Gaussian ``noise`` of that standard deviation, for variety).
        Returns (steps, dim)."""
        hidden = None
        x = seed[None]
        out = []
        for _ in range(steps):
            y, hidden = self.rnn(x, hidden)
            nxt = x[:, -1] + self.out(y[:, -1])
            if noise:
                nxt = nxt + noise * torch.randn(nxt.shape, generator=generator)
            out.append(nxt[0])
            x = nxt[:, None]
        return torch.stack(out)
