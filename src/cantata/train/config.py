"""The frozen configuration of the one training loop (:func:`cantata.train.fit`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cantata.config import from_mapping
from cantata.errors import ConfigError

LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine")
"""Learning-rate schedules :class:`TrainConfig` accepts."""

_POSITIVE_INTS = ("max_steps", "batch_size", "eval_every", "log_every")
_NON_NEGATIVE_INTS = ("patience", "seed", "num_workers")


@dataclass(frozen=True)
class TrainConfig:
    """How to optimise; what to optimise is the task's business.

    Attributes:
        max_steps: optimiser steps to run at most.
        batch_size: items per batch (train and validation).
        lr: peak learning rate of AdamW.
        weight_decay: decoupled weight decay of AdamW.
        grad_clip_norm: clip the global gradient L2 norm to this (None: no clipping).
        eval_every: validate every this many steps (and after the last step).
        patience: stop after this many validations without improvement (0: never stop
            early).
        seed: seeds torch at the start of the run, and the data loader.
        num_workers: data-loader worker processes (0: load in the training process).
        log_every: emit a "train" event every this many steps, with means over them.
        lr_schedule: "constant", or "cosine" (decay from ``lr`` to 0 over ``max_steps``).
        keep_checkpoints: also keep every evaluation's weights as
            ``steps/step-<step>.pt`` (for checkpoint averaging, or to look back).
    """

    max_steps: int = 2000
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip_norm: float | None = 5.0
    eval_every: int = 200
    patience: int = 5
    seed: int = 0
    num_workers: int = 0
    log_every: int = 20
    lr_schedule: str = "constant"
    keep_checkpoints: bool = False

    def __post_init__(self) -> None:
        for name in (*_POSITIVE_INTS, *_NON_NEGATIVE_INTS):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an int, got {value!r}")
            if value < (1 if name in _POSITIVE_INTS else 0):
                kind = "positive" if name in _POSITIVE_INTS else ">= 0"
                raise ConfigError(f"{name} must be {kind}, got {value}")
        for name in ("lr", "weight_decay", "grad_clip_norm"):
            value = getattr(self, name)
            if value is None and name == "grad_clip_norm":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{name} must be a number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if not self.weight_decay >= 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.grad_clip_norm is not None and not self.grad_clip_norm > 0:
            raise ConfigError(f"grad_clip_norm must be positive or None, got {self.grad_clip_norm}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(
                f"lr_schedule must be one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-serialisable dict (inverse of :meth:`from_dict`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Build a config from :meth:`to_dict` output; missing keys take their defaults.

        Raises:
            ConfigError: ``d`` is not a mapping, has unknown keys, or a value is invalid.
        """
        return from_mapping(cls, d)
