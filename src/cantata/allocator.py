"""Keep freed memory in the process for reuse instead of handing it back (glibc only).

PyTorch on CPU frees and re-allocates the same large buffers at every training step and
every separated window. glibc serves each allocation above its mmap threshold with fresh
pages from the kernel and unmaps them on free, so every step page-faults and zeroes the
same memory again: on the project's 2-core machine a third of a separator training step
was kernel time (``bench/allocator.py``). With mmap and trimming off, freed blocks are
reused: training steps ran 1.3-1.9x faster, at the price of a higher resident peak (the
heap keeps its high-water mark: one separator step 2.46 GB instead of 1.94).

The ``cantata train`` commands do this; library users may call :func:`keep_freed_memory`
themselves. ``cantata separate`` does not: separating 4 minutes of stereo ran 1.5-1.7x
faster, but an hour of stereo peaked at 1.36 and 1.14 GB in two runs instead of 0.95 and
0.99 (under the 1.5 GB bar, but with little margin and much spread), and with Wiener
filtering 20 minutes peaked at 1.70 GB instead of 1.21. Users who want that speed can
set the variables of :data:`ENVIRONMENT` themselves.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
M_MMAP_MAX = -4
#: The same settings as environment variables, which glibc reads when a process starts:
#: child processes (scan workers, data-loading workers) inherit them.
ENVIRONMENT = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**31 - 1)}


def keep_freed_memory() -> bool:
    """Turn glibc's mmap and trimming off for this process and the processes it starts.

    Returns whether it did: not on another C library, and not when the environment already
    tunes glibc's allocator (any ``MALLOC_*`` variable), which then wins.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if any(name.startswith("MALLOC_") for name in os.environ):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    if not (libc.mallopt(M_MMAP_MAX, 0) and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)):
        return False
    os.environ.update(ENVIRONMENT)
    return True
