"""keep_freed_memory: freed buffers are reused instead of faulted in again."""

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


def _child(mode: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", CHILD, mode], env={**clean, **env},
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
