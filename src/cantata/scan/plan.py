"""Finding a library's audio files and deciding which need work."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cantata.analyzers import AnalyzerSpec
from cantata.catalog import FileStat, KnownFile
from cantata.data.sources._files import audio_files
from cantata.errors import ConfigError


@dataclass(frozen=True)
class Job:
    """One file for a worker.

    Attributes:
        stat: the file's path, size and time now.
        known_hash: its content hash when last scanned (None if new): equal content means
            only ``needed`` analyzers run; other content means all of them.
        needed: names of the analyzers whose results are missing or outdated.
    """

    stat: FileStat
    known_hash: str | None
    needed: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """What a scan does: the jobs, how many files it found and skips, and how many of the
    skipped ones failed in an earlier scan (retried only with ``retry_failed``)."""

    files: int
    jobs: list[Job]
    still_failed: int = 0

    @property
    def skipped(self) -> int:
        return self.files - len(self.jobs)


def check_library(root: str | os.PathLike[str]) -> Path:
    """``root`` as a path, if it is a folder or a file: check it before creating anything.

    Raises:
        ConfigError: ``root`` does not exist.
    """
    root = Path(root)
    if not root.is_file() and not root.is_dir():
        raise ConfigError(f"{root}: library folder not found")
    return root


def discover(root: str | os.PathLike[str]) -> list[Path]:
    """Every audio file under ``root`` (recursively, absolute, sorted); a file counts too.

    Raises:
        ConfigError: ``root`` does not exist.
    """
    root = check_library(root)
    if root.is_file():
        return [root.resolve()]
    return [p.resolve() for p in audio_files(root)]


def stat_of(path: Path) -> FileStat:
    st = path.stat()
    return FileStat(str(path), st.st_size, st.st_mtime_ns)


def plan(files: Sequence[Path], known: dict[str, KnownFile], specs: Sequence[AnalyzerSpec], *,
         retry_failed: bool = False) -> Plan:
    """The jobs for ``files`` given what the catalog ``known`` holds.

    A file is skipped when its size and time are as scanned and every spec's result is
    there (or it failed, unless ``retry_failed``). A file whose size or time changed is
    hashed by its worker, which then redoes everything only if the content changed.
    """
    jobs, still_failed = [], 0
    for path in files:
        try:
            stat = stat_of(path)
        except OSError:
            continue  # vanished since discovery: nothing to scan
        old = known.get(stat.path)
        if old is None:
            jobs.append(Job(stat, None, tuple(s.name for s in specs)))
            continue
        needed = tuple(s.name for s in specs if s.key not in old.result_keys)
        if old.stat == stat:
            if old.status == "failed" and not retry_failed:
                still_failed += 1
                continue
            if old.status == "ok" and not needed:
                continue
            if old.status == "failed":
                needed = tuple(s.name for s in specs)
        jobs.append(Job(stat, old.content_hash, needed))
    return Plan(len(files), jobs, still_failed)
