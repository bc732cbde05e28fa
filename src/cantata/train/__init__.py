"""Training: one loop for every model (P11); each capability supplies a :class:`Task`.

Example:
    >>> result = fit(model, task, train_set, val_set, TrainConfig(max_steps=500),
    ...              out_dir="runs/detector", checkpoint_name="speech-detector",
    ...              model_config=model_config, meta={"labels": ["speech"]})  # doctest: +SKIP
    >>> result.best_path  # doctest: +SKIP
    PosixPath('runs/detector/best.pt')
"""

from __future__ import annotations

from cantata.train.config import TrainConfig
from cantata.train.loop import FitResult, fit
from cantata.train.task import Task

__all__ = ["FitResult", "Task", "TrainConfig", "fit"]
