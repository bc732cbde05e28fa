"""The resumable state of a run, and its round trip through ``last.pt``.

``last.pt`` is a regular self-describing checkpoint (see
:func:`cantata.models.registry.save_checkpoint`) with one more entry, ``train_state``:
step, best metric, evaluations without improvement, history, wall time, the train config,
and the optimiser, scheduler and torch RNG states. It holds tensors and plain Python
values only, so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from cantata.errors import ConfigError, ModelLoadError
from cantata.models.registry import config_to_dict, read_checkpoint_payload, save_checkpoint
from cantata.train.config import TrainConfig


class Stateful(Protocol):
    """An optimiser, a scheduler, or the loop's bundle of one per phase."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


RESUME_MUST_MATCH = ("batch_size", "lr", "weight_decay", "grad_clip_norm", "seed", "lr_schedule")
"""TrainConfig fields a resumed run must share with the saved one (others may change)."""


@dataclass
class TrainState:
    """Progress of a run: everything but weights and optimiser tensors.

    Attributes:
        step: optimiser steps done.
        best_metric: best value of the task metric so far (None before the first eval).
        best_step: step of ``best_metric``.
        evals_without_improvement: evaluations since the best one.
        stopped_early: patience ran out; the run does not continue.
        wall_s: training wall time so far, in seconds, over all sessions.
        history: one record per evaluation: ``{"step", "metrics", "improved"}``.
    """

    step: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    evals_without_improvement: int = 0
    stopped_early: bool = False
    wall_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain Python values."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunFiles:
    """Where and under which model description a run writes its checkpoints.

    Attributes:
        out_dir: the run folder.
        name: registry name of the model.
        model_config: its config instance.
        meta: JSON-like metadata for every checkpoint.
    """

    out_dir: Path
    name: str
    model_config: Any
    meta: Mapping[str, Any]

    @property
    def best_path(self) -> Path:
        """The best checkpoint by the task metric."""
        return self.out_dir / "best.pt"

    @property
    def last_path(self) -> Path:
        """The resumable checkpoint of the latest evaluation."""
        return self.out_dir / "last.pt"

    def step_path(self, step: int) -> Path:
        """Where ``keep_checkpoints`` puts the weights of the evaluation at ``step``."""
        return self.out_dir / "steps" / f"step-{step:06d}.pt"

    def save(
        self,
        path: Path,
        model: nn.Module,
        *,
        training: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write a checkpoint of ``model`` with ``meta["training"] = training``."""
        meta = {**self.meta, "training": dict(training)}
        return save_checkpoint(
            path, model, name=self.name, config=self.model_config, meta=meta, extra=extra
        )


def save_last(
    files: RunFiles,
    model: nn.Module,
    *,
    state: TrainState,
    config: TrainConfig,
    optimizer: Stateful,
    scheduler: Stateful,
) -> Path:
    """Write ``last.pt``: the model and everything needed to continue the run."""
    train_state = {
        **state.to_dict(),
        "train_config": config.to_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng_state": torch.get_rng_state(),
        # Only when CUDA is in use: querying it would otherwise start a CUDA context.
        "cuda_rng_states": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }
    training = {"step": state.step, "train_config": config.to_dict(), "wall_s": state.wall_s}
    return files.save(files.last_path, model, training=training, extra={"train_state": train_state})


def restore_last(
    files: RunFiles,
    model: nn.Module,
    *,
    config: TrainConfig,
    optimizer: Stateful,
    scheduler: Stateful,
) -> TrainState:
    """Load ``last.pt`` into the model, optimiser, scheduler and torch RNGs (CPU, CUDA).

    Returns:
        The progress saved with it.

    Raises:
        ModelLoadError: the file is not a resumable checkpoint, or its weights do not fit.
        ConfigError: it was written for another model, model config, or a train config
            that differs in a field of :data:`RESUME_MUST_MATCH`.
    """
    path = files.last_path
    payload = read_checkpoint_payload(path)
    _check_same_run(path, payload, files, config)
    saved = payload["train_state"]
    try:
        model.load_state_dict(payload["state_dict"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng_state"])
        if saved["cuda_rng_states"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(saved["cuda_rng_states"])
        fields = {f.name: saved[f.name] for f in dataclasses.fields(TrainState)}
    except (RuntimeError, ValueError, KeyError, TypeError) as err:
        raise ModelLoadError(f"{path}: cannot resume from it ({err})") from err
    return TrainState(**fields)


def _check_same_run(
    path: Path, payload: Mapping[str, Any], files: RunFiles, config: TrainConfig
) -> None:
    saved = payload.get("train_state")
    if not isinstance(saved, dict) or not isinstance(saved.get("train_config"), dict):
        raise ModelLoadError(f"{path}: not a resumable checkpoint (no train_state)")
    advice = "pass resume=False or use another out_dir"
    if payload["name"] != files.name:
        raise ConfigError(f"{path} holds model {payload['name']!r}, not {files.name!r}; {advice}")
    if payload["config"] != config_to_dict(files.model_config):
        raise ConfigError(f"{path} was written with another model config; {advice}")
    now = config.to_dict()
    changed = [key for key in RESUME_MUST_MATCH if saved["train_config"].get(key) != now[key]]
    if changed:
        raise ConfigError(f"{path} was written with other train settings {changed}; {advice}")
