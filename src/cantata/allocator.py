"""Keep freed memory in the process for reuse instead of handing it back (glibc only).

PyTorch on CPU frees and re-allocates the same large buffers at every training step and
every separated window. glibc serves each allocation above its mmap threshold with fresh
pages from the kernel and unmaps them on free, so every step page-faults and zeroes the
same memory again: on the project's 2-core machine a third of a separator training step
was kernel time (``bench/allocator.py``). With mmap and trimming off, freed blocks are
reused: training steps ran 1.3-1.9x faster, at the price of a higher resident peak (the
heap keeps its high-water mark: one separator step 2.46 GB instead of 1.94).

The ``cantata train`` commands do this (:func:`keep_freed_memory`); library users may
call it themselves. ``cantata separate`` keeps less (:func:`keep_window_buffers`; so do
``cantata serve`` and a ``cantata scan`` that separates): with
everything kept, separating 4 minutes of stereo ran 1.5-1.7x faster, but an hour of stereo
peaked at 1.36 and 1.14 GB in two runs instead of 0.95 and 0.99 (under the 1.5 GB bar,
but with little margin and much spread), and with Wiener filtering 20 minutes peaked at
1.70 GB instead of 1.21. Instead it serves buffers below 32 MiB from the heap and keeps up
to 256 MiB free there, and the separator's one large activation runs in slices below that
size (:class:`cantata.models.separator.Refine`): most page faults go, the peak stays.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
#: the environment variable glibc reads, at a process's start, for each ``mallopt`` option
VARIABLES = {M_TRIM_THRESHOLD: "MALLOC_TRIM_THRESHOLD_",
             M_MMAP_THRESHOLD: "MALLOC_MMAP_THRESHOLD_", M_MMAP_MAX: "MALLOC_MMAP_MAX_"}
#: :func:`keep_freed_memory`: no mmap, no trimming
FREED_MEMORY = {M_MMAP_MAX: 0, M_TRIM_THRESHOLD: 2**31 - 1}
#: :func:`keep_window_buffers`: glibc's largest mmap threshold, 32 MiB, fixed (by default
#: it only grows there as buffers are freed), and 256 MiB of trim slack
WINDOW_BUFFERS = {M_MMAP_THRESHOLD: 32 * 2**20, M_TRIM_THRESHOLD: 256 * 2**20}
#: The settings of :func:`keep_freed_memory` as environment variables: child processes
#: (scan workers, data-loading workers) inherit them.
ENVIRONMENT = {VARIABLES[option]: str(value) for option, value in FREED_MEMORY.items()}


def keep_freed_memory() -> bool:
    """Turn glibc's mmap and trimming off for this process and the processes it starts.

    Returns whether it did: not on another C library, and not when the environment already
    tunes glibc's allocator (any ``MALLOC_*`` variable), which then wins.
    """
    return _tune(FREED_MEMORY)


def keep_window_buffers() -> bool:
    """Serve buffers below 32 MiB from glibc's heap and keep up to 256 MiB free there, for
    this process and the processes it starts: separating window after window then reuses
    its buffers instead of faulting fresh pages in (a third of the CPU time), while the
    peak memory stays that of glibc's defaults. Larger buffers still come from mmap.

    Returns whether it did, under the same conditions as :func:`keep_freed_memory`.
    """
    return _tune(WINDOW_BUFFERS)


def _tune(options: dict[int, int]) -> bool:
    """``mallopt`` each of ``options`` and export them as environment variables; whether
    all applied."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if any(name.startswith("MALLOC_") for name in os.environ):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    if not all(libc.mallopt(option, value) for option, value in options.items()):
        return False
    os.environ.update({VARIABLES[option]: str(value) for option, value in options.items()})
    return True
