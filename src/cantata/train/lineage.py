"""Lineage: the runs a checkpoint grew from, kept inside the checkpoint itself.

A run started with ``--init`` records, in ``meta["lineage"]``, the stages of the checkpoint
it started from (that checkpoint's own lineage, then that checkpoint's stage), oldest
first. The model card is then complete even after the earlier checkpoints are deleted,
which shipping a new version of a model does.
"""

from __future__ import annotations

import os
from typing import Any

from cantata.models.registry import read_checkpoint_payload


def stage(meta: dict[str, Any]) -> dict[str, Any]:
    """One run, as a lineage entry: ``{"command", "recipe", "weights", "steps", "wall_s"}``.

    ``recipe`` is the run's resolved recipe (None before recipes were recorded);
    ``weights`` says which of the run's weights the checkpoint holds: ``"best at step N"``
    or ``"the mean of steps A, B, C"`` (see :mod:`cantata.train.average`).
    """
    training = meta.get("training", {})
    sources = meta.get("averaged_from")
    weights = (f"the mean of steps {', '.join(str(s.get('step')) for s in sources)}"
               if sources else f"best at step {training.get('step')}")
    return {"command": meta.get("command"), "recipe": meta.get("recipe"), "weights": weights,
            "steps": training.get("train_config", {}).get("max_steps"),
            "wall_s": training.get("wall_s")}


def lineage_of(init: str | os.PathLike[str] | None) -> list[dict[str, Any]]:
    """The stages a run started from ``init`` grew from, oldest first ([] without ``init``).

    A checkpoint written before lineages were recorded contributes its own stage only, and
    an entry ``{"init": path}`` for the run it started from, whose history is unknown.
    """
    if init is None:
        return []
    meta = read_checkpoint_payload(init)["meta"]
    earlier = meta.get("lineage")
    if earlier is None:
        earlier = [{"init": meta["init"]}] if meta.get("init") else []
    return [*earlier, stage(meta)]
