"""keep_freed_memory, keep_window_buffers: freed buffers are reused instead of faulted
in again."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")

# the minor page faults of filling a fresh 40 MB buffer five times over, after the first
CHILD = """
import sys
import numpy as np
from cantata.allocator import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
def faults():
    return int(open("/proc/self/stat").read().split()[9])
size = 10 * 2**20 + 1000
np.ones(size, np.float32)
before = faults()
for _ in range(5):
    np.ones(size, np.float32)
import os
print(kept, faults() - before, os.environ.get("MALLOC_MMAP_MAX_"))
"""


def _child(mode: str, program: str = CHILD, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", program, mode], env={**clean, **env},
                          capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_a_freed_buffer_is_reused_without_page_faults():
    kept, faults, variable = _child("keep")
    assert kept == "True" and int(faults) < 50 and variable == "0"
    kept, faults, variable = _child("default")
    # every buffer faulted in anew: 5 x 10 k pages, or 5 x 20 transparent huge pages
    assert kept == "False" and int(faults) > 100 and variable == "None"


def test_the_environment_s_own_tuning_wins():
    kept, _, variable = _child("keep", MALLOC_TOP_PAD_="0")
    assert kept == "False" and variable == "None"


# three 20 MB buffers at once, five times over: glibc's defaults serve them from the heap
# once its mmap threshold has grown, but trim the 60 MB freed at its top each time
WINDOW_CHILD = """
import sys
import numpy as np
from cantata.allocator import keep_window_buffers
kept = keep_window_buffers() if sys.argv[1] == "window" else False
def faults():
    return int(open("/proc/self/stat").read().split()[9])
size = 5 * 2**20
for i in range(7):
    if i == 2:
        before = faults()
    buffers = [np.ones(size, np.float32) for _ in range(3)]
    del buffers
import os
print(kept, faults() - before, os.environ.get("MALLOC_MMAP_THRESHOLD_"))
"""


def test_window_sized_buffers_are_reused_without_page_faults():
    kept, faults, variable = _child("window", program=WINDOW_CHILD)
    assert kept == "True" and int(faults) < 50 and variable == str(32 * 2**20)
    kept, faults, variable = _child("default", program=WINDOW_CHILD)
    assert kept == "False" and int(faults) > 100 and variable == "None"
    kept, _, variable = _child("window", program=WINDOW_CHILD, MALLOC_ARENA_MAX="2")
    assert kept == "False" and variable == "None"
