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
    transferred layers frozen; ``begin_step(step)``, called with the 0-based index of each
    update before its ``training_step`` (a task that alternates phases reads it); and
    ``lr_scale(step) -> float``, a multiplier of that update's learning rate on top of the
    schedule (e.g. a larger rate for an adversarial phase).

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
    own = {id(param) for param in model.parameters()}
    if any(id(param) not in own for param in params):
        raise ConfigError("task.parameters(model) returned tensors that are not model parameters")
    return params


def _trainable(model: nn.Module) -> Iterator[nn.Parameter]:
    return (param for param in model.parameters() if param.requires_grad)
