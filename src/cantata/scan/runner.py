"""A scan: plan, run the jobs on a backend, and write each outcome to the catalog as it lands.

The catalog has one writer, this process; workers only compute. Each track is written in
one transaction, so a scan killed at any moment (even SIGKILL) loses at most the tracks in
flight, and the next scan of the same library picks them up.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cantata.analyzers import AnalyzerSpec
from cantata.catalog import Catalog, KnownFile, ScanRun
from cantata.errors import CantataError
from cantata.scan.moves import Changes, find_changes
from cantata.scan.plan import Job, check_library, discover, plan
from cantata.scan.worker import Outcome

log = logging.getLogger(__name__)

BACKENDS = ("local", "inline", "ray")


class Backend(Protocol):
    name: str
    jobs: int

    def map(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        """Outcomes in the order they finish."""

    def close(self) -> None: ...


@dataclass
class ScanSummary:
    """How a scan went.

    Attributes:
        run: the scan's catalog record.
        found: audio files found.
        skipped: files unchanged since an earlier scan, not opened.
        analyzed: files analyzed (or found unchanged by content) and written.
        failed: files recorded as failed by this scan, path -> reason.
        still_failed: files skipped because they failed in an earlier scan and have not
            changed (``retry_failed`` retries them).
        moved: tracks whose file moved (found by content): path updated, results kept.
        missing: tracks whose file is newly gone, now flagged missing.
        audio_s: seconds of audio analyzed.
        wall_s: wall time of the scan, model loading included.
        seconds: summed worker time per stage (hash, decode, each analyzer) and ``write``.
    """

    run: ScanRun
    found: int = 0
    skipped: int = 0
    analyzed: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    still_failed: int = 0
    moved: int = 0
    missing: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"scan_id": self.run.id, "found": self.found,
                "skipped": self.skipped, "analyzed": self.analyzed,
                "failed": len(self.failed), "failures": self.failed,
                "still_failed": self.still_failed, "moved": self.moved,
                "missing": self.missing,
                "audio_s": round(self.audio_s, 3), "wall_s": round(self.wall_s, 3),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def default_files_dir(db_path: str | os.PathLike[str]) -> Path:
    """Where a catalog's stems go by default: ``<db folder>/<db name>-files/``."""
    db = Path(db_path)
    return db.with_name(f"{db.stem}-files")


def make_backend(kind: str, specs: Sequence[AnalyzerSpec], *, jobs: int,
                 files_dir: str | Path | None, ray_address: str | None = None) -> Backend:
    """``local`` (a pool of worker processes), ``inline`` (one worker in this process:
    no start-up cost, easiest to debug, but a crash in native code ends the scan) or
    ``ray``."""
    if kind in ("local", "inline"):
        from cantata.scan.local import InlineBackend, ProcessBackend

        cls = InlineBackend if kind == "inline" else ProcessBackend
        return cls(specs, files_dir=files_dir, jobs=jobs)
    if kind == "ray":
        from cantata.scan.ray_backend import RayBackend

        return RayBackend(specs, files_dir=files_dir, jobs=jobs, address=ray_address)
    raise CantataError(f"unknown backend {kind!r}; choose from {', '.join(BACKENDS)}")


def scan(root: str | os.PathLike[str], catalog: Catalog, specs: Sequence[AnalyzerSpec], *,
         backend: str = "local", jobs: int = 1, files_dir: str | Path | None = None,
         retry_failed: bool = False, ray_address: str | None = None,
         on_start: Callable[[int], None] | None = None,
         on_outcome: Callable[[Outcome], None] | None = None) -> ScanSummary:
    """Scan a library into ``catalog``.

    Args:
        root: the library folder (searched recursively) or one file.
        specs: the analyzers to run (:func:`cantata.analyzers.resolve`).
        backend, jobs: where the work runs and how many workers.
        files_dir: where analyzers write files (stems); default beside the catalog.
        retry_failed: also retry files that failed before and have not changed.
        on_start: called with the number of files to open (the others are unchanged).
        on_outcome: called after each outcome is written.

    Raises:
        ConfigError: the library folder does not exist.
        KeyboardInterrupt: after recording the scan as interrupted.
    """
    start = time.perf_counter()
    check_library(root)
    files_dir = Path(files_dir) if files_dir is not None else default_files_dir(catalog.path)
    with scan_lock(catalog.path):
        sweep_partial_files(files_dir)
        catalog.close_stale_scans()
        return _scan(root, catalog, specs, backend=backend, jobs=jobs, files_dir=files_dir,
                     retry_failed=retry_failed, ray_address=ray_address, on_start=on_start,
                     on_outcome=on_outcome, start=start)


def _scan(root: str | os.PathLike[str], catalog: Catalog, specs: Sequence[AnalyzerSpec], *,
          backend: str, jobs: int, files_dir: Path, retry_failed: bool,
          ray_address: str | None, on_start: Callable[[int], None] | None,
          on_outcome: Callable[[Outcome], None] | None, start: float) -> ScanSummary:
    files = discover(root)
    run = catalog.start_scan(Path(root).resolve(), [str(s) for s in specs], backend=backend,
                             jobs=jobs)
    known, changes = follow_library(catalog, Path(root).resolve(), files, run.id)
    work = plan(files, known, specs, retry_failed=retry_failed)
    summary = ScanSummary(run, found=work.files, skipped=work.skipped,
                          still_failed=work.still_failed, moved=len(changes.moved),
                          missing=len(changes.missing))
    if on_start is not None:
        on_start(len(work.jobs))
    status = "interrupted"
    runner = make_backend(backend, specs, jobs=jobs, files_dir=files_dir,
                          ray_address=ray_address) if work.jobs else None
    try:
        for outcome in runner.map(work.jobs) if runner else ():
            _write(catalog, run.id, outcome, summary)
            if on_outcome is not None:
                on_outcome(outcome)
        status = "finished"
    finally:
        if runner is not None:
            runner.close()
        summary.run = catalog.finish_scan(run.id, status=status, found=summary.found,
                                          skipped=summary.skipped)
        summary.wall_s = time.perf_counter() - start
    return summary


def follow_library(catalog: Catalog, root: Path, files: Sequence[Path],
                   scan_id: int) -> tuple[dict[str, KnownFile], Changes]:
    """Move the tracks of moved files (results kept), flag those gone as missing and those
    back as found; returns the catalog's known files after that, and the changes."""
    known = catalog.known_files()
    changes = find_changes(root, files, known)
    for old, stat in changes.moved.items():
        catalog.move(old, stat, scan_id=scan_id)
        log.info("%s: moved to %s; its results follow it", old, stat.path)
    catalog.set_missing(changes.missing, True)
    catalog.set_missing(changes.back, False)
    return (catalog.known_files() if changes.moved else known), changes


@contextmanager
def scan_lock(db_path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``<db>.scan-lock`` exclusively: one scan writes a catalog at a time. The
    operating system releases it when the process ends, however it ends.

    Raises:
        CantataError: another scan holds it.
    """
    lock_path = Path(f"{Path(db_path).resolve()}.scan-lock")  # one lock through any symlink
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise CantataError(f"{db_path}: another scan is writing this catalog; wait for "
                               "it to finish") from err
        yield


def sweep_partial_files(files_dir: Path) -> int:
    """Delete the temporary ``.*.part`` files a killed scan left in ``files_dir``."""
    removed = 0
    if files_dir.is_dir():
        for debris in files_dir.rglob(".*.part"):
            debris.unlink(missing_ok=True)
            removed += 1
    return removed


def _write(catalog: Catalog, scan_id: int, outcome: Outcome, summary: ScanSummary) -> None:
    tick = time.perf_counter()
    for warning in outcome.warnings:  # logged here: a worker process's log goes nowhere
        log.warning("%s", warning)
    if outcome.unchanged:
        catalog.touch(outcome.job.stat)
        summary.skipped += 1
    else:
        catalog.write_track(outcome.facts, outcome.results, scan_id=scan_id)
        if outcome.facts.error:
            summary.failed[outcome.facts.path] = outcome.facts.error
        else:
            summary.analyzed += 1
            summary.audio_s += outcome.facts.duration_s or 0.0
    for key, value in outcome.seconds.items():
        summary.seconds[key] = summary.seconds.get(key, 0.0) + value
    summary.seconds["write"] = summary.seconds.get("write", 0.0) + time.perf_counter() - tick
