"""Training the continuer: predict each next embedding of a track's segment sequence.

Batches are float32 sequences (batch, steps + 1, dim) of consecutive segment embeddings
(:class:`EmbeddingSequences`); the loss is the mean squared error of every prediction.
Validation also ranks the true next embedding among all others of the batch by distance
to the prediction (``val_next_mrr``), which is what retrieval-based rendering needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from cantata.errors import ConfigError


class EmbeddingSequences(Dataset[Tensor]):
    """Windows of ``steps + 1`` consecutive embeddings drawn from tracks' sequences.

    Args:
        sequences: one (n, dim) array per track, segments back to back.
        steps: predictions per item.
        n_items: items per epoch.
        seed: items are drawn from (seed, epoch, index); ``fixed`` ignores the epoch
            (validation).
    """

    def __init__(self, sequences: Sequence[np.ndarray], *, steps: int, n_items: int,
                 seed: int = 0, fixed: bool = False) -> None:
        self.sequences = [np.asarray(s, np.float32) for s in sequences if len(s) > steps]
        if not self.sequences:
            raise ConfigError(f"no embedding sequence is longer than {steps} segments")
        lengths = np.array([len(s) - steps for s in self.sequences], np.float64)
        self.weights = lengths / lengths.sum()
        self.steps, self.n_items, self.seed, self.fixed, self.epoch = \
            steps, n_items, seed, fixed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n_items

    def __getitem__(self, index: int) -> Tensor:
        rng = np.random.default_rng([self.seed, 0 if self.fixed else self.epoch, index])
        seq = self.sequences[rng.choice(len(self.sequences), p=self.weights)]
        start = int(rng.integers(0, len(seq) - self.steps))
        return torch.from_numpy(seq[start:start + self.steps + 1])


class ContinuationTask:
    """Next-embedding regression; selects on the validation MSE."""

    metric = "val_mse"
    higher_is_better = False

    def training_step(self, model: nn.Module, batch: Tensor) -> tuple[Tensor, dict[str, float]]:
        pred = model(batch[:, :-1])
        loss = torch.mean((pred - batch[:, 1:]) ** 2)
        return loss, {}

    @torch.no_grad()
    def evaluate(self, model: nn.Module, batches: Iterable[Tensor]) -> dict[str, float]:
        errors, ranks, copy = [], [], []
        for batch in batches:
            pred = model(batch[:, :-1])[:, -1]  # the last prediction: most context
            true = batch[:, -1]
            errors.append(torch.mean((pred - true) ** 2, dim=1))
            copy.append(torch.mean((batch[:, -2] - true) ** 2, dim=1))
            distance = torch.cdist(pred, true)  # (batch, batch): candidates are all nexts
            ranks.append(1 + (distance < distance.diagonal()[:, None]).sum(dim=1))
        rank = torch.cat(ranks).float()
        return {"val_mse": float(torch.cat(errors).mean()),
                "val_mse_repeat_last": float(torch.cat(copy).mean()),
                "val_next_mrr": float((1 / rank).mean())}
