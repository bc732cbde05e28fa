"""The one training loop of Cantata (P11): tasks supply the step, :func:`fit` does the rest.

:func:`fit` owns optimisation (AdamW, optional cosine decay, gradient clipping),
validation, best-checkpoint selection, early stopping, resumable state and event logging.
A task may optimise in phases, each with its own optimiser (see :class:`Task`).
A run folder ends up holding:

- ``best.pt``: self-describing checkpoint of the best evaluation, with
  ``meta["training"] = {"step", "metrics", "train_config", "wall_s"}``;
- ``last.pt``: the same format plus ``train_state``, written at every evaluation;
  ``fit(..., resume=True)`` continues from it;
- ``train.jsonl``: one JSON line per event (see :mod:`cantata.train.events`);
- ``steps/step-<step>.pt``: with ``keep_checkpoints``, every evaluation's weights (for
  :func:`cantata.train.average.average_checkpoints`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from cantata.errors import CantataError, ConfigError, ShapeError
from cantata.models.registry import check_json_like, resolve_config
from cantata.train.config import TrainConfig
from cantata.train.data import TrainBatches, move_to, val_loader
from cantata.train.events import EventLog, MetricWindow, ProgressCallback
from cantata.train.state import RunFiles, TrainState, restore_last, save_last
from cantata.train.task import Task, phase_param_groups, task_phases


@dataclass(frozen=True)
class FitResult:
    """What a run achieved.

    Attributes:
        best_path: the best checkpoint (``out_dir/best.pt``).
        best_metric: its value of the task metric.
        best_step: the step it was taken at.
        steps_done: optimiser steps done in total (over resumed sessions too).
        stopped_early: patience ran out before ``max_steps``.
        history: one record per evaluation: ``{"step", "metrics", "improved"}``.
    """

    best_path: Path
    best_metric: float
    best_step: int
    steps_done: int
    stopped_early: bool
    history: list[dict[str, Any]]


def fit(
    model: nn.Module,
    task: Task,
    train_data: Dataset[Any],
    val_data: Dataset[Any],
    config: TrainConfig,
    *,
    out_dir: str | os.PathLike[str],
    checkpoint_name: str,
    model_config: Any,
    meta: Mapping[str, Any],
    resume: bool = True,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Train ``model`` on ``task`` and keep the best checkpoint.

    Training runs on the device of the model's parameters. The dataset is read in order,
    batch ``k`` of an epoch holding items ``[k * batch_size, (k + 1) * batch_size)``;
    datasets randomise themselves from (seed, epoch, index), and an optional
    ``train_data.set_epoch(epoch)`` is called (in the loading process) as each epoch
    starts. With the same seed and deterministic data, two runs give the same weights, and
    a run resumed from ``last.pt`` gives the weights of an uninterrupted one.

    Args:
        model: the model, as :func:`cantata.models.registry.build` made it; left holding
            the weights of the last step.
        task: batch -> loss and metrics, and validation (see :class:`Task`).
        train_data: map-style dataset of training items.
        val_data: map-style dataset evaluated whole at every evaluation.
        config: how to optimise.
        out_dir: run folder (created if missing) for ``best.pt``, ``last.pt`` and
            ``train.jsonl``.
        checkpoint_name: registry name of the model, written into the checkpoints.
        model_config: the model's config (instance or mapping).
        meta: JSON-like metadata for the checkpoints (feature config, labels...).
        resume: continue from ``out_dir/last.pt`` if it exists (a larger ``max_steps``
            extends a finished run; an early-stopped run stays stopped). Otherwise start
            afresh, overwriting the folder's files.
        on_progress: called with each event dict; the library itself never prints.

    Returns:
        The best checkpoint and how the run went.

    Raises:
        ConfigError: bad meta, model name or config, a metric missing from the task's
            evaluation, a training set smaller than one batch, or a ``last.pt`` from
            another run.
        ModelLoadError: ``last.pt`` exists but cannot be resumed from.
        CantataError: the loss became NaN or infinite.
    """
    check_json_like(meta, what="checkpoint meta")
    files = RunFiles(
        out_dir=Path(out_dir),
        name=checkpoint_name,
        model_config=resolve_config(checkpoint_name, model_config),
        meta=dict(meta),
    )
    batches = TrainBatches(train_data, config)
    files.out_dir.mkdir(parents=True, exist_ok=True)
    resumed = resume and files.last_path.is_file()
    events = EventLog(files.out_dir / "train.jsonl", on_progress, append=resumed)
    torch.manual_seed(config.seed)
    run = _Run(model, task, config, files=files, batches=batches, events=events)
    if resumed:
        run.restore()
    return run.run(val_loader(val_data, config))


class _Run:
    """One training session: the optimiser, schedule and progress around a model."""

    def __init__(
        self,
        model: nn.Module,
        task: Task,
        config: TrainConfig,
        *,
        files: RunFiles,
        batches: TrainBatches,
        events: EventLog,
    ) -> None:
        self.model, self.task, self.config, self.files = model, task, config, files
        self.batches, self.events = batches, events
        self.phases = [_Phase(name, phase_param_groups(task, model, name), config)
                       for name in task_phases(task)]
        self.optimizer, self.scheduler = _PhaseStates.of(self.phases)
        self.state = TrainState()
        self.window = MetricWindow()
        self.device = next(model.parameters()).device
        self._started = time.monotonic()
        self._wall_before = 0.0

    def restore(self) -> None:
        """Continue from ``last.pt``."""
        self.state = restore_last(
            self.files,
            self.model,
            config=self.config,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
        )
        self._wall_before = self.state.wall_s

    def run(self, val_batches: Iterable[Any]) -> FitResult:
        """Train until ``max_steps`` or early stopping; validate as configured."""
        self._emit("start", resumed=self.state.step > 0)
        self.model.train()
        stream = self.batches.from_step(self.state.step)
        while not (self.state.stopped_early or self.state.step >= self.config.max_steps):
            self._train_step(next(stream))
            step = self.state.step
            if step % self.config.log_every == 0:
                self._log_train()
            if step % self.config.eval_every == 0 or step == self.config.max_steps:
                self._validate(val_batches)
        if len(self.window):
            self._log_train()
        state = self.state
        self._emit(
            "stop",
            stopped_early=state.stopped_early,
            best_step=state.best_step,
            best_metric=state.best_metric,
        )
        if state.best_metric is None or state.best_step is None:
            raise CantataError(f"{self.files.out_dir}: the run ended without an evaluation")
        return FitResult(
            best_path=self.files.best_path,
            best_metric=state.best_metric,
            best_step=state.best_step,
            steps_done=state.step,
            stopped_early=state.stopped_early,
            history=list(state.history),
        )

    def _train_step(self, batch: Any) -> None:
        batch = move_to(batch, self.device)
        begin_phase = getattr(self.task, "begin_phase", None)
        record: dict[str, Any] = {"loss": 0.0}
        for i, phase in enumerate(self.phases):
            self.model.zero_grad(set_to_none=True)  # the frozen parameters too
            if begin_phase is not None:
                begin_phase(phase.name)
            loss, metrics = self.task.training_step(self.model, batch)
            _check_loss(loss, step=self.state.step + 1)
            loss.backward()
            grad_norm = phase.update(self.config.grad_clip_norm)
            record["loss"] += float(loss.detach())
            record["grad_norm" if i == 0 else f"grad_norm/{phase.name}"] = grad_norm
            record.update(metrics)
        self.state.step += 1
        self.window.add(record)

    def _log_train(self) -> None:
        means = self.window.pop_means()
        self._emit(
            "train",
            epoch=(self.state.step - 1) // self.batches.batches_per_epoch,
            lr=self.phases[0].scheduler.get_last_lr()[0],
            loss=means.pop("loss"),
            grad_norm=means.pop("grad_norm", None),
            metrics=means,
        )

    def _validate(self, val_batches: Iterable[Any]) -> None:
        """Evaluate, update best and patience, write the checkpoints, then emit the event."""
        metrics = self._evaluate(val_batches)
        state = self.state
        improved = self._update_progress(metrics)  # also brings state.wall_s up to date
        training = {
            "step": state.step,
            "metrics": metrics,
            "train_config": self.config.to_dict(),
            "wall_s": state.wall_s,
        }
        if improved:
            self.files.save(self.files.best_path, self.model, training=training)
        if self.config.keep_checkpoints:
            path = self.files.step_path(state.step)
            path.parent.mkdir(exist_ok=True)
            self.files.save(path, self.model, training=training)
        save_last(
            self.files,
            self.model,
            state=state,
            config=self.config,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
        )
        self._emit(
            "eval",
            **state.history[-1],
            best_metric=state.best_metric,
            best_step=state.best_step,
            evals_without_improvement=state.evals_without_improvement,
        )

    def _update_progress(self, metrics: dict[str, float]) -> bool:
        """Record an evaluation in the state; whether it is the best so far."""
        state, value = self.state, metrics[self.task.metric]
        improved = _improves(value, state.best_metric, higher=self.task.higher_is_better)
        if improved:
            state.best_metric, state.best_step = value, state.step
            state.evals_without_improvement = 0
        else:
            state.evals_without_improvement += 1
        patience = self.config.patience
        state.stopped_early = patience > 0 and state.evals_without_improvement >= patience
        state.history.append({"step": state.step, "metrics": metrics, "improved": improved})
        state.wall_s = self._wall_s()
        return improved

    def _evaluate(self, val_batches: Iterable[Any]) -> dict[str, float]:
        self.model.eval()
        try:
            with torch.no_grad():
                moved = (move_to(batch, self.device) for batch in val_batches)
                metrics = self.task.evaluate(self.model, moved)
        finally:
            self.model.train()
        if self.task.metric not in metrics:
            raise ConfigError(
                f"task.evaluate returned {sorted(metrics)}, without the selection metric "
                f"{self.task.metric!r}"
            )
        return {str(key): float(value) for key, value in metrics.items()}

    def _emit(self, kind: str, **fields: Any) -> None:
        event = {"event": kind, "step": self.state.step, "max_steps": self.config.max_steps}
        self.events.emit({**event, **fields, "wall_s": round(self._wall_s(), 3)})

    def _wall_s(self) -> float:
        return self._wall_before + time.monotonic() - self._started


class _Phase:
    """One optimisation phase: AdamW over its parameter groups and the schedule."""

    def __init__(self, name: str, groups: list[tuple[list[nn.Parameter], float]],
                 config: TrainConfig) -> None:
        self.name = name
        self.params = [param for params, _ in groups for param in params]
        self.optimizer = torch.optim.AdamW(
            [{"params": params, "lr": config.lr * scale} for params, scale in groups],
            lr=config.lr, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _lr_factor(config))

    def update(self, clip_norm: float | None) -> float | None:
        """Clip this phase's gradients, step its optimiser and schedule; the norm before
        clipping (None without clipping)."""
        grad_norm = None
        if clip_norm is not None:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(self.params, clip_norm))
        self.optimizer.step()
        self.scheduler.step()
        return grad_norm


class _PhaseStates:
    """The optimisers (or schedulers) of several phases saved and restored as one
    ``{phase: state_dict}``; a single phase's are saved as they are."""

    def __init__(self, parts: dict[str, Any]) -> None:
        self.parts = parts

    @staticmethod
    def of(phases: list[_Phase]) -> tuple[Any, Any]:
        if len(phases) == 1:
            return phases[0].optimizer, phases[0].scheduler
        return (_PhaseStates({p.name: p.optimizer for p in phases}),
                _PhaseStates({p.name: p.scheduler for p in phases}))

    def state_dict(self) -> dict[str, Any]:
        return {name: part.state_dict() for name, part in self.parts.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if set(state) != set(self.parts):
            raise ValueError(f"saved phases {sorted(state)}, this task has {sorted(self.parts)}")
        for name, part in self.parts.items():
            part.load_state_dict(state[name])


def _lr_factor(config: TrainConfig) -> Callable[[int], float]:
    """Multiplier of each group's learning rate for the update after ``step`` scheduler
    steps."""
    total = config.max_steps

    def cosine(step: int) -> float:
        return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))

    def constant(step: int) -> float:
        return 1.0

    return cosine if config.lr_schedule == "cosine" else constant


def _check_loss(loss: Tensor, *, step: int) -> None:
    if not isinstance(loss, Tensor) or loss.ndim != 0:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ShapeError(f"task.training_step must return a scalar loss tensor, got {shape}")
    if not math.isfinite(float(loss.detach())):
        raise CantataError(f"the loss is {float(loss.detach())} at step {step}")


def _improves(value: float, best: float | None, *, higher: bool) -> bool:
    """Whether ``value`` beats ``best``; NaN never does, anything beats None or NaN."""
    if best is None:
        return True
    if math.isnan(value):
        return False
    if math.isnan(best):
        return True
    return value > best if higher else value < best
