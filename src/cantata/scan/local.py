"""Running scan jobs on this machine: in this process, or on a pool of worker processes."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from cantata.analyzers import AnalyzerSpec
from cantata.scan.plan import Job
from cantata.scan.worker import Outcome, Worker


def threads_per_worker(jobs: int) -> int:
    """Split the machine's cores evenly between ``jobs`` workers (at least one each)."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


class InlineBackend:
    """One worker in this process: the default for ``--jobs 1``, and the simplest to debug."""

    name = "local"

    def __init__(self, specs: Sequence[AnalyzerSpec], *, files_dir: str | Path | None,
                 jobs: int = 1) -> None:
        self.jobs = 1
        self.worker = Worker(specs, files_dir=files_dir)

    def map(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        for job in jobs:
            yield self.worker.run(job)

    def close(self) -> None:
        pass


_WORKER: Worker | None = None


def _init_worker(specs: Sequence[AnalyzerSpec], files_dir: str | None, threads: int,
                 parent: int) -> None:
    global _WORKER
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _WORKER = Worker(specs, files_dir=files_dir, threads=threads)


def _exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """End this worker soon after the scan process dies (even by SIGKILL), which the
    pool's own queues do not notice: no orphan keeps running or holding memory."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


def _run(job: Job) -> Outcome:
    assert _WORKER is not None, "worker process not initialised"
    return _WORKER.run(job)


class ProcessBackend:
    """``jobs`` worker processes, each loading the analyzers once; results come back in
    the order they finish. At most two jobs per worker are in flight, so a huge library
    does not sit in the queue."""

    name = "local"

    def __init__(self, specs: Sequence[AnalyzerSpec], *, files_dir: str | Path | None,
                 jobs: int) -> None:
        self.jobs = jobs
        context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        self.pool = ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_init_worker,
            initargs=(list(specs), None if files_dir is None else str(files_dir),
                      threads_per_worker(jobs), os.getpid()))

    def map(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        pending: set[Future[Outcome]] = set()
        queue = iter(jobs)
        while True:
            for job in queue:
                pending.add(self.pool.submit(_run, job))
                if len(pending) >= 2 * self.jobs:
                    break
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
