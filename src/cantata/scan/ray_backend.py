"""Running scan jobs on a Ray cluster: actors hold the models, this process writes.

Every node needs Cantata installed, the library at the same path as on the driver, and the
files folder (stems) on storage all nodes share. Without an address, Ray starts a local
instance with ``jobs`` CPUs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from cantata.analyzers import AnalyzerSpec
from cantata.errors import CantataError
from cantata.scan.local import threads_per_worker
from cantata.scan.plan import Job
from cantata.scan.worker import Outcome, Worker


class _ScanActor:
    """A Ray actor: one :class:`Worker`, models loaded once."""

    def __init__(self, specs: Sequence[AnalyzerSpec], files_dir: str | None,
                 threads: int) -> None:
        self.worker = Worker(specs, files_dir=files_dir, threads=threads)

    def run(self, job: Job) -> Outcome:
        return self.worker.run(job)


class RayBackend:
    """``jobs`` actors (one CPU each) fed through a :class:`ray.util.ActorPool`."""

    name = "ray"

    def __init__(self, specs: Sequence[AnalyzerSpec], *, files_dir: str | Path | None,
                 jobs: int, address: str | None = None) -> None:
        try:
            import ray
            from ray.util import ActorPool
        except ImportError as err:
            raise CantataError("--backend ray needs Ray: pip install 'cantata[ray]'") from err
        self.jobs = max(1, jobs)
        self._started = not ray.is_initialized()
        if self._started:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=self.jobs, include_dashboard=False, log_to_driver=False)
        actor = ray.remote(num_cpus=1)(_ScanActor)
        threads = 1 if address else threads_per_worker(self.jobs)
        self.actors = [actor.remote(list(specs), None if files_dir is None else str(files_dir),
                                    threads) for _ in range(self.jobs)]
        self.pool = ActorPool(self.actors)

    def map(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        return self.pool.map_unordered(lambda actor, job: actor.run.remote(job), jobs)

    def close(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
        if self._started:
            ray.shutdown()
