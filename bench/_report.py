"""Shared by the bench scripts: machine description and recording tables into docs."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"


def record(doc: str | Path, name: str, section: str) -> None:
    """Put ``section`` (which starts and ends with the markers of ``name``) into ``doc``."""
    doc = Path(doc)
    begin, end = markers(name)
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text)


def best_of(repeats: int, job: Callable[[], object]) -> float:
    """The fastest of ``repeats`` runs of ``job``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)
