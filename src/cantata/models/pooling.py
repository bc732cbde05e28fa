"""Multiple-instance learning pooling: frame probabilities -> clip probabilities.

A clip labelled only "contains a click" (a weak label) trains a frame-wise network through
a pooling function of its frame probabilities; the pooling decides which frames the
gradient reaches, and so how well the network localises (Wang, Li and Metze 2019,
"A comparison of five multiple instance learning pooling functions for sound event
detection with weak labeling"):

- ``max``: the most confident frame; only it gets a gradient (localises sharply, learns
  slowly).
- ``mean``: every frame equally; pushes every frame of a positive clip up (overshoots).
- ``linear_softmax``: ``sum p^2 / sum p``, each frame weighted by its own probability;
  localises best in Wang et al.'s comparison.
- ``attention``: a learnt weight per frame (softmax over frames of attention logits from
  the network's features), ``sum w p``.
- ``auto``: auto-pool (McFee, Salamon and Bello 2018), ``sum p e^{a p} / sum e^{a p}`` with
  a learnt ``a`` per type: ``a = 0`` is the mean, large ``a`` approaches the max.

Shapes: probabilities (batch, types, frames) -> (batch, types).
"""

from __future__ import annotations

import torch
from torch import nn

from cantata.errors import ConfigError, ShapeError

POOLINGS = ("max", "mean", "linear_softmax", "attention", "auto")
_EPS = 1e-7


def max_pool(probs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The largest frame probability; (batch, types, frames) -> (batch, types)."""
    return _masked(probs, mask).amax(dim=-1)


def mean_pool(probs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The mean frame probability (of the frames in ``mask``)."""
    if mask is None:
        return probs.mean(dim=-1)
    return _masked(probs, mask).sum(dim=-1) / mask.sum(dim=-1, keepdim=True).clamp_min(1)


def linear_softmax_pool(probs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``sum p^2 / sum p`` over frames (0 where every frame is 0)."""
    probs = _masked(probs, mask)
    return (probs * probs).sum(dim=-1) / probs.sum(dim=-1).clamp_min(_EPS)


def attention_weights(attention_logits: torch.Tensor) -> torch.Tensor:
    """Softmax over frames: weights that sum to 1 per clip and type; same shape."""
    return torch.softmax(attention_logits, dim=-1)


def attention_pool(probs: torch.Tensor, attention_logits: torch.Tensor,
                   mask: torch.Tensor | None = None) -> torch.Tensor:
    """``sum w p`` with ``w`` the softmax over frames of ``attention_logits`` (same shape)."""
    if attention_logits.shape != probs.shape:
        raise ShapeError(f"attention logits {tuple(attention_logits.shape)} do not match the "
                         f"probabilities {tuple(probs.shape)}")
    return (attention_weights(_masked(attention_logits, mask, -1e9)) * probs).sum(dim=-1)


def auto_pool(probs: torch.Tensor, alpha: torch.Tensor,
              mask: torch.Tensor | None = None) -> torch.Tensor:
    """``sum p e^{a p} / sum e^{a p}`` with ``alpha`` (types,): 0 is the mean, +inf the max."""
    weights = torch.softmax(_masked(alpha[:, None] * probs, mask, -1e9), dim=-1)
    return (weights * probs).sum(dim=-1)


def _masked(x: torch.Tensor, mask: torch.Tensor | None, fill: float = 0.0) -> torch.Tensor:
    """``x`` (batch, types, frames) with the frames outside ``mask`` (batch, frames) set to
    ``fill``: padding that pools as if it were not there."""
    return x if mask is None else x.masked_fill(~mask[:, None, :], fill)


class MILPooling(nn.Module):
    """One of :data:`POOLINGS` as a module (auto-pool's ``alpha`` is its parameter).

    Args:
        kind: the pooling.
        n_types: outputs pooled (auto-pool learns one ``alpha`` each, starting at 1).
    """

    def __init__(self, kind: str, n_types: int) -> None:
        super().__init__()
        if kind not in POOLINGS:
            raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}, got {kind!r}")
        self.kind = kind
        if kind == "auto":
            self.alpha = nn.Parameter(torch.ones(n_types))

    def forward(self, probs: torch.Tensor, attention_logits: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Clip probabilities; ``attention_logits`` are needed by (only) ``attention``;
        ``mask`` (batch, frames) bool keeps padding out of the pool."""
        if probs.ndim != 3:
            raise ShapeError(f"expected probabilities (batch, types, frames), got "
                             f"{tuple(probs.shape)}")
        if self.kind == "attention":
            if attention_logits is None:
                raise ConfigError("attention pooling needs attention logits")
            return attention_pool(probs, attention_logits, mask)
        if self.kind == "auto":
            return auto_pool(probs, self.alpha, mask)
        return {"max": max_pool, "mean": mean_pool,
                "linear_softmax": linear_softmax_pool}[self.kind](probs, mask)

    def extra_repr(self) -> str:
        return self.kind
