"""What keeping freed memory (``cantata.allocator``) does to training and separation.

Usage:
    python bench/allocator.py [--steps 8] [--minutes 60] [--repeats 2] [--record docs/benchmarks.md]

Each job runs in a fresh Python process, once with glibc's default allocator settings and
once after :func:`cantata.allocator.keep_freed_memory` (what ``cantata train`` does),
alternating, best of ``--repeats``:

* one training step of the shipped separator (16 three-second mono mixes, the shipped
  loss ``l1+sisdr+winsdr``, Adam), one torch thread: seconds per step, and the share of
  the process's CPU time spent in the kernel (page faults);
* separating a 4-minute stereo 44.1 kHz mp3 to two wav stems, 2 torch threads: multiples
  of real time;
* separating a ``--minutes`` mp3 the same way with one Wiener iteration (the separation
  mode that needs the most memory): the peak resident memory (``VmHWM``), which freed
  memory kept for reuse raises (so inference does not keep it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _report import machine, markers, record
from separation_memory import long_file

CHILD = """
import json, os, sys, time
job, variant, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
if variant == "kept":
    from cantata.allocator import keep_freed_memory
    assert keep_freed_memory(), "keep_freed_memory did not apply"
import torch
torch.set_num_threads(threads)
if job == "train":
    from cantata.capabilities import WEIGHTS_DIR
    from cantata.models.registry import load_checkpoint
    from cantata.train.tasks.separation import SeparationTask
    steps = int(sys.argv[4])
    torch.manual_seed(0)
    model, _ = load_checkpoint(next(WEIGHTS_DIR.glob("separator-*.pt")))
    model.train()
    task = SeparationTask("l1+sisdr+winsdr")
    optimizer = torch.optim.Adam(model.parameters(), 1e-5)
    vocals, backing = 0.1 * torch.randn(2, 16, 1, 48000)
    batch = {"mixture": vocals + backing, "vocals": vocals, "accompaniment": backing}
    for step in range(steps + 2):  # two to warm up
        if step == 2:
            start, cpu = time.perf_counter(), os.times()
        loss, _ = task.training_step(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    end = os.times()
    user, system = end.user - cpu.user, end.system - cpu.system
    result = {"seconds": (time.perf_counter() - start) / steps,
              "kernel_share": system / (user + system)}
else:
    from cantata.separate.api import Separator
    separator = Separator.from_pretrained("separator", wiener=int(sys.argv[6]))
    start = time.perf_counter()
    files = separator.separate_to_files(sys.argv[4], sys.argv[5], overwrite=True)
    status = open("/proc/self/status").read()
    result = {"speed": files.duration_s / (time.perf_counter() - start),
              "peak_bytes": int(status.split("VmHWM:")[1].split()[0]) * 1024}
print(json.dumps(result))
"""
VARIANTS = ("default", "kept")


def run(job: str, variant: str, *args: object, threads: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", CHILD, job, variant, str(threads),
                           *map(str, args)], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def best(job: str, *args: object, threads: int, repeats: int, key: str,
         lowest: bool) -> dict[str, dict[str, float]]:
    """The best of ``repeats`` runs of each variant, by ``key``; variants alternate."""
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    for _ in range(repeats):
        for variant in VARIANTS:
            runs[variant].append(run(job, variant, *args, threads=threads))
    pick = min if lowest else max
    return {v: pick(results, key=lambda r: r[key]) for v, results in runs.items()}


def rows(steps: int, minutes: float, repeats: int) -> list[str]:
    train = best("train", steps, threads=1, repeats=repeats, key="seconds", lowest=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        short = best("separate", long_file(folder, 4, "mp3"), folder / "stems", 0, threads=2,
                     repeats=repeats, key="speed", lowest=False)
        long = {v: run("separate", v, long_file(folder, minutes, "mp3"), folder / "stems", 1,
                       threads=2) for v in VARIANTS}
    d, k = (train[v] for v in VARIANTS)
    gb = 1024 ** 3
    return [
        f"| separator training step, 1 thread (s; kernel share of CPU time) | "
        f"{d['seconds']:.2f} ({100 * d['kernel_share']:.0f} %) | "
        f"{k['seconds']:.2f} ({100 * k['kernel_share']:.0f} %) | "
        f"{d['seconds'] / k['seconds']:.2f}x faster |",
        f"| separate a 4-minute stereo mp3, 2 threads (x real time) | "
        f"{short['default']['speed']:.1f}x | {short['kept']['speed']:.1f}x | "
        f"{short['kept']['speed'] / short['default']['speed']:.2f}x faster |",
        f"| peak memory separating a {minutes:g}-minute stereo mp3, `--wiener 1` | "
        f"{long['default']['peak_bytes'] / gb:.2f} GB | {long['kept']['peak_bytes'] / gb:.2f} GB"
        f" | {long['kept']['peak_bytes'] / long['default']['peak_bytes']:.2f}x |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    begin, end = markers("allocator")
    section = "\n".join([
        begin,
        f"### Keeping freed memory ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/allocator.py --steps {args.steps} --minutes {args.minutes:g} "
        f"--repeats {args.repeats}`: each job in a fresh process with glibc's default "
        "allocator settings and after `cantata.allocator.keep_freed_memory()` (what "
        "`cantata train` does), alternating, best of the repeats.",
        "",
        "| job | glibc default | freed memory kept | kept vs default |",
        "|---|---:|---:|---:|",
        *rows(args.steps, args.minutes, args.repeats),
        end,
    ])
    print(section)
    if args.record:
        record(args.record, "allocator", section)


if __name__ == "__main__":
    main()
