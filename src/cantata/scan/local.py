"""Running scan jobs on this machine: in this process, or on a pool of worker processes."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from cantata.analyzers import AnalyzerSpec
from cantata.catalog import TrackFacts
from cantata.scan.plan import Job
from cantata.scan.worker import Outcome, Worker
from cantata.threads import configured_threads


def threads_per_worker(jobs: int) -> int:
    """Split this process's threads (``--threads``, or the cores it may use) evenly between
    ``jobs`` workers (at least one each)."""
    return max(1, configured_threads() // max(1, jobs))


class InlineBackend:
    """One worker in this process (``--backend inline``): no start-up cost and the simplest
    to debug, but a crash in native code ends the scan with it."""

    name = "inline"

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
    does not sit in the queue.

    A worker that dies (a decoder crashing in native code, the out-of-memory killer)
    takes the pool down with the jobs in flight. The pool is rebuilt and each of those
    jobs is retried alone: one that kills its worker again is reported as failed, the
    others go on, so one poisonous file never stops a scan.
    """

    name = "local"

    def __init__(self, specs: Sequence[AnalyzerSpec], *, files_dir: str | Path | None,
                 jobs: int) -> None:
        self.jobs = jobs
        self._initargs = (list(specs), None if files_dir is None else str(files_dir),
                          threads_per_worker(jobs), os.getpid())
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        return ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_init_worker,
                                   initargs=self._initargs)

    def map(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        pending: dict[Future[Outcome], Job] = {}
        queue = iter(jobs)
        while True:
            for job in queue:
                pending[self.pool.submit(_run, job)] = job
                if len(pending) >= 2 * self.jobs:
                    break
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            crashed = []
            for future in done:
                job = pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    crashed.append(job)
            if crashed:
                crashed += list(pending.values())  # in flight when the worker died
                pending.clear()
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = self._new_pool()
                for job in crashed:
                    yield self._alone(job)

    def _alone(self, job: Job) -> Outcome:
        """Run one suspect job by itself; a second crash marks its file as failed."""
        try:
            return self.pool.submit(_run, job).result()
        except BrokenProcessPool:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = self._new_pool()
            facts = TrackFacts(job.stat.path, job.known_hash or "", job.stat.size_bytes,
                               job.stat.mtime_ns,
                               error="the worker analyzing it crashed, twice (a decoder or "
                                     "model failing in native code, or out of memory)")
            return Outcome(job, facts)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
