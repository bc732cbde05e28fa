"""What a capability gives the training loop: a step, an evaluation, a selection metric (P11)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

from torch import Tensor, nn

from cantata.errors import ConfigError


@runtime_checkable
class Task(Protocol):
    """The task-specific half of training; :func:`cantata.train.fit` owns the rest.

    Batches are whatever the default collate makes of the dataset's items (tensors moved to
    the model's device, inside tuples, lists and dicts).

    A task may also define ``parameters(model) -> Iterable[nn.Parameter]``, the
    parameters to optimise (default: every parameter with ``requires_grad``), e.g. to keep
    transferred layers frozen.

    A task that optimises in phases (e.g. a metric loss, then an adversarial game) defines
    ``phases``, a tuple of phase names; every step then runs each phase in turn on the same
    batch: ``begin_phase(name)``, ``training_step``, backward, an update by that phase's own
    optimiser (its own AdamW moments) over ``param_groups(model, name)``, a list of
    ``(parameters, lr_scale)``: the groups and their learning-rate multipliers on top of
    the schedule. Without ``phases`` there is one phase, ``"train"``, over
    ``parameters(model)`` at the scheduled rate.

    Attributes:
        metric: key of :meth:`evaluate`'s result that selects the best checkpoint and
            drives early stopping.
        higher_is_better: whether a larger ``metric`` is better.
    """

    metric: str
    higher_is_better: bool

    def training_step(self, model: nn.Module, batch: Any) -> tuple[Tensor, dict[str, float]]:
        """Loss of one batch (a scalar with a graph) and metrics to log (plain floats)."""
        ...

    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        """Validation metrics over all ``batches``; runs under ``torch.no_grad`` in eval mode."""
        ...


def task_parameters(task: Task, model: nn.Module) -> list[nn.Parameter]:
    """The parameters the task wants optimised.

    Raises:
        ConfigError: the list is empty, or holds something that is not a parameter of
            ``model``.
    """
    chosen = getattr(task, "parameters", None)
    params = list(chosen(model) if chosen is not None else _trainable(model))
    if not params:
        raise ConfigError("the task leaves no parameter to optimise")
    _check_owned(params, model, "task.parameters(model) returned tensors")
    return params


def task_phases(task: Task) -> tuple[str, ...]:
    """The task's optimisation phases, in the order each step runs them."""
    phases = tuple(getattr(task, "phases", ("train",)))
    if not phases or len(set(phases)) != len(phases):
        raise ConfigError(f"task phases must be distinct names, got {list(phases)}")
    return phases


def phase_param_groups(task: Task, model: nn.Module, phase: str
                       ) -> list[tuple[list[nn.Parameter], float]]:
    """``(parameters, lr_scale)`` groups one phase optimises (see :class:`Task`).

    Raises:
        ConfigError: a group is empty or has a non-positive scale, or holds something that
            is not a parameter of ``model``.
    """
    groups_of = getattr(task, "param_groups", None)
    if groups_of is None:
        return [(task_parameters(task, model), 1.0)]
    groups = []
    for params, scale in groups_of(model, phase):
        params = list(params)
        if not params or not scale > 0:
            raise ConfigError(f"phase {phase!r}: a parameter group is empty or has a "
                              f"non-positive learning-rate scale ({scale})")
        _check_owned(params, model, f"phase {phase!r}: the task's parameter groups hold "
                                    f"tensors")
        groups.append((params, float(scale)))
    if not groups:
        raise ConfigError(f"phase {phase!r} has no parameter group")
    return groups


def _check_owned(params: list[nn.Parameter], model: nn.Module, what: str) -> None:
    own = {id(param) for param in model.parameters()}
    if any(id(param) not in own for param in params):
        raise ConfigError(f"{what} that are not model parameters")


def _trainable(model: nn.Module) -> Iterator[nn.Parameter]:
    return (param for param in model.parameters() if param.requires_grad)
