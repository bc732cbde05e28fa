"""Checkpoint averaging: the mean of the weights of several evaluations of one run.

Late checkpoints of a run with a decaying learning rate sit around the same minimum;
their mean often generalises a little better than any one of them (stochastic weight
averaging, Izmailov et al. 2018). Batch-norm running statistics are averaged like the
weights. Train with ``keep_checkpoints`` (``--keep-checkpoints``) to have every
evaluation's weights under ``RUN/steps/``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from cantata.errors import ConfigError
from cantata.files import check_overwrite
from cantata.models.registry import build, read_checkpoint_payload, save_checkpoint


def average_checkpoints(paths: Sequence[str | os.PathLike[str]],
                        out: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write the mean of the checkpoints' weights to ``out``.

    The result is a regular checkpoint with the last input's name, config and meta, plus
    ``meta["averaged_from"] = [{"path", "step"}, ...]``; its ``meta["training"]`` keeps
    the last input's step and wall time but drops its validation metrics (they were
    measured on other weights).

    ``out`` may be a folder: the file is then named by its digest, as
    :func:`~cantata.models.registry.save_checkpoint` does.

    Raises:
        ConfigError: fewer than two inputs, or inputs of different models or configs.
        OutputExistsError: ``out`` is an existing file and ``overwrite`` is false.
        ModelLoadError: an input is not a checkpoint.
    """
    if len(paths) < 2:
        raise ConfigError(f"averaging needs at least two checkpoints, got {len(paths)}")
    out = Path(out)
    if not out.is_dir():
        check_overwrite(out, overwrite, flag="--force")
    payloads = [read_checkpoint_payload(Path(p)) for p in paths]
    first, last = payloads[0], payloads[-1]
    for path, payload in zip(paths, payloads, strict=True):
        if (payload["name"], payload["config"]) != (first["name"], first["config"]):
            raise ConfigError(f"{path}: a different model than {paths[0]} "
                              f"({payload['name']!r} vs {first['name']!r} or another config)")
    state = {}
    for key, tensor in last["state_dict"].items():
        if tensor.is_floating_point() or tensor.is_complex():
            state[key] = torch.stack([p["state_dict"][key] for p in payloads]).mean(0)
        else:  # counters such as num_batches_tracked
            state[key] = tensor
    model = build(last["name"], last["config"])
    model.load_state_dict(state)
    meta = dict(last["meta"])
    training = {k: v for k, v in meta.get("training", {}).items() if k != "metrics"}
    meta.update(training=training, averaged_from=[
        {"path": str(p), "step": q["meta"].get("training", {}).get("step")}
        for p, q in zip(paths, payloads, strict=True)])
    for key in ("code_version", "git_sha", "saved_at"):  # save_checkpoint sets these anew
        meta.pop(key, None)
    return save_checkpoint(out, model, name=last["name"], config=last["config"], meta=meta)
