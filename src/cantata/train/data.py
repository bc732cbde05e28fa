"""Data loading for the training loop: resumable epochs that reach persistent workers.

The loop does not shuffle: datasets randomise themselves from (seed, epoch, index). The
sampler therefore yields ``(epoch, index)`` pairs and :class:`_EpochIndexed` calls the
dataset's ``set_epoch`` inside whichever process loads the item. A plain ``set_epoch``
call in the training process would never reach persistent worker processes, which hold
their own copy of the dataset.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from cantata.errors import ConfigError
from cantata.train.config import TrainConfig


class _EpochSampler(Sampler[tuple[int, int]]):
    """Yields ``(epoch, index)`` for ``index`` in ``[first_index, n_items)``."""

    def __init__(self, n_items: int) -> None:
        self.n_items = n_items
        self.epoch = 0
        self.first_index = 0

    def __len__(self) -> int:
        return self.n_items - self.first_index

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((self.epoch, index) for index in range(self.first_index, self.n_items))


class _EpochIndexed(Dataset[Any]):
    """Wraps a dataset so that ``item[(epoch, index)]`` sets the epoch, then loads."""

    def __init__(self, dataset: Dataset[Any]) -> None:
        self.dataset = dataset
        self._epoch: int | None = None

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> Any:
        epoch, index = key
        set_epoch = getattr(self.dataset, "set_epoch", None)
        if set_epoch is not None and epoch != self._epoch:
            set_epoch(epoch)
        self._epoch = epoch
        return self.dataset[index]


class TrainBatches:
    """Endless training batches, epoch after epoch, starting at any step.

    Batch ``k`` of epoch ``e`` holds items ``[k * batch_size, (k + 1) * batch_size)`` of
    the dataset in epoch ``e``; the last partial batch of an epoch is dropped.

    Raises:
        ConfigError: the dataset holds fewer items than one batch.
    """

    def __init__(self, dataset: Dataset[Any], config: TrainConfig) -> None:
        n_items = len(dataset)  # type: ignore[arg-type]
        self.batches_per_epoch = n_items // config.batch_size
        if self.batches_per_epoch == 0:
            raise ConfigError(
                f"the training set holds {n_items} items, fewer than batch_size={config.batch_size}"
            )
        self._batch_size = config.batch_size
        self._sampler = _EpochSampler(n_items)
        self._loader = DataLoader(
            _EpochIndexed(dataset),
            batch_size=config.batch_size,
            sampler=self._sampler,
            drop_last=True,
            num_workers=config.num_workers,
            generator=torch.Generator().manual_seed(config.seed),
            persistent_workers=config.num_workers > 0,
        )

    def from_step(self, step: int) -> Iterator[Any]:
        """Batches from global step ``step`` on (the batch that step ``step + 1`` trains on)."""
        epoch, batch_index = divmod(step, self.batches_per_epoch)
        while True:
            # The sampler is read when the loader starts an epoch, in this process.
            self._sampler.epoch = epoch
            self._sampler.first_index = batch_index * self._batch_size
            yield from self._loader
            epoch, batch_index = epoch + 1, 0


def val_loader(dataset: Dataset[Any], config: TrainConfig) -> DataLoader[Any]:
    """The validation loader: in order, every item, the same on every evaluation."""
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=False,
        drop_last=False,
        num_workers=config.num_workers,
        persistent_workers=config.num_workers > 0,
    )


def move_to(batch: Any, device: torch.device) -> Any:
    """``batch`` with every tensor moved to ``device`` (through tuples, lists and dicts)."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {key: move_to(value, device) for key, value in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_to(value, device) for value in batch))
    if isinstance(batch, list | tuple):
        return type(batch)(move_to(value, device) for value in batch)
    return batch
