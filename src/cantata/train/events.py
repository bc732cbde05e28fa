"""Training events: one JSON line each in ``train.jsonl``, and a callback for the CLI.

Every event is a dict with ``"event"`` (``"start"``, ``"train"``, ``"eval"`` or
``"stop"``), ``"step"`` and ``"max_steps"``, so a progress bar needs nothing else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[dict[str, Any]], None]


class EventLog:
    """Appends events to a JSONL file and hands each to ``on_progress``.

    Args:
        path: the JSONL file.
        on_progress: called with each event after it is written; what it raises ends the
            run (the last evaluation's ``last.pt`` is already on disk).
        append: keep earlier lines (a resumed run); otherwise start the file afresh.
    """

    def __init__(self, path: Path, on_progress: ProgressCallback | None, *, append: bool) -> None:
        self.path = path
        self._on_progress = on_progress
        if not append:
            path.write_text("", encoding="utf-8")

    def emit(self, event: dict[str, Any]) -> None:
        """Write ``event`` as one line, log it, and pass it on."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")
        level = logging.DEBUG if event["event"] == "train" else logging.INFO
        logger.log(level, "step %d/%d %s", event["step"], event["max_steps"], event)
        if self._on_progress is not None:
            self._on_progress(event)


class MetricWindow:
    """Means of the loss, gradient norm and step metrics since the last train event."""

    def __init__(self) -> None:
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    def __len__(self) -> int:
        return self._counts.get("loss", 0)

    def add(self, values: Mapping[str, float | None]) -> None:
        """Add one step's values; None values are skipped."""
        for key, value in values.items():
            if value is not None:
                self._sums[key] = self._sums.get(key, 0.0) + float(value)
                self._counts[key] = self._counts.get(key, 0) + 1

    def pop_means(self) -> dict[str, float]:
        """The means so far, then start afresh."""
        means = {key: self._sums[key] / self._counts[key] for key in self._sums}
        self._sums, self._counts = {}, {}
        return means
