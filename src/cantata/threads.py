"""How many threads the numeric libraries (torch, BLAS, OpenMP) use in this process.

Their own default is every core of the machine, which oversubscribes a process confined to
fewer cores (a CPU affinity mask, a container's CPU quota) and one sharing the machine with
busy processes: there a user saw separation take 12.4 s with the default threads and 5.4 s
with one (``bench/threads.py`` measures it: docs/benchmarks.md). :func:`default_threads`
counts the cores this process may use and that are idle now; :func:`set_threads` applies a
count, before models load. Every ``cantata`` command does this (``--threads N``, or the
default).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: the environment variables the numeric libraries read at start-up (for libraries not yet
#: loaded and for child processes)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
#: the CPU quota of this process's cgroup: v2, then v1 (quota and period in microseconds)
CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1 = (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
             Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
PROC_STAT = Path("/proc/stat")
#: how long :func:`idle_cpus` watches the cores, and the busy share above which a core
#: counts as taken
SAMPLE_S = 0.05
BUSY_SHARE = 0.5

_configured: int | None = None


def allowed_cpus() -> set[int]:
    """The CPUs this process may run on (its affinity mask; all of them where unknown)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set(range(os.cpu_count() or 1))


def cgroup_cpu_limit() -> float | None:
    """The CPUs' worth of time this process's cgroup may use (``2.5``), None if unlimited."""
    try:
        quota, period = CGROUP_V2.read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota, period = (path.read_text().strip() for path in CGROUP_V1)
        except (OSError, ValueError):
            return None
    try:
        if quota == "max" or int(quota) <= 0 or int(period) <= 0:
            return None
        return int(quota) / int(period)
    except ValueError:
        return None


def available_cores() -> int:
    """The cores this process may use: its affinity mask, capped by its cgroup's quota."""
    cores = len(allowed_cpus()) or 1
    limit = cgroup_cpu_limit()
    return max(1, min(cores, math.ceil(limit))) if limit else cores


def idle_cpus(cpus: set[int], *, sample_s: float = SAMPLE_S) -> int | None:
    """How many of ``cpus`` were mostly idle over ``sample_s`` (None where unknown)."""
    before = _cpu_times()
    time.sleep(sample_s)
    after = _cpu_times()
    idle = 0
    for cpu in cpus:
        if cpu not in before or cpu not in after:
            return None
        busy, total = (a - b for a, b in zip(after[cpu], before[cpu], strict=True))
        idle += total <= 0 or busy / total < BUSY_SHARE
    return idle


def default_threads() -> int:
    """Threads for this process: the cores it may use (:func:`available_cores`) that are
    idle now, at least one; not ``os.cpu_count()``, which oversubscribes."""
    cpus = allowed_cpus()
    cores = available_cores()
    idle = idle_cpus(cpus) if len(cpus) > 1 else None
    return max(1, min(cores, idle if idle is not None else cores))


def set_threads(n: int | None = None) -> int:
    """Use ``n`` threads (None: :func:`default_threads`, unless ``OMP_NUM_THREADS`` is set)
    in torch, BLAS and OpenMP, for this process and the processes it starts.

    Call it before models load: libraries that read the environment at start-up see it
    when they are first imported; torch, if already imported, is set directly.

    Returns:
        The count applied.
    """
    global _configured
    if n is None:
        given = os.environ.get("OMP_NUM_THREADS", "") if _configured is None else ""
        n = int(given) if given.isdigit() and int(given) > 0 else default_threads()
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    with contextlib.suppress(ImportError):  # numpy's BLAS, if loaded (when installed)
        import threadpoolctl

        threadpoolctl.threadpool_limits(n)
    _configured = n
    log.debug("using %d thread(s)", n)
    return n


def configured_threads() -> int:
    """The count :func:`set_threads` applied, or :func:`available_cores` before it ran."""
    return _configured if _configured is not None else available_cores()


def _cpu_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (busy, total) clock ticks since boot, from ``/proc/stat``."""
    times: dict[int, tuple[int, int]] = {}
    try:
        lines = PROC_STAT.read_text().splitlines()
    except OSError:
        return times
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            ticks = [int(f) for f in fields[:8]]
            idle = ticks[3] + ticks[4]  # idle + iowait
            times[int(name[3:])] = (sum(ticks) - idle, sum(ticks))
    return times
