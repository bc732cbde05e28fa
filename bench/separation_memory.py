"""Peak memory of separating a long file to stem files (goal: < 1.5 GB for 1 hour).

Usage:
    python bench/separation_memory.py [--model separator] [--minutes 60] [--format mp3]
                                      [--record docs/separation.md]

Makes a stereo 44.1 kHz file of ``--minutes`` (the shipped example song, looped; mp3 by
default), then separates it to two 16-bit wav stems in a fresh Python process with 2 torch
threads and reads that process's peak resident memory (``VmHWM``, Linux). The same is
measured for a 4-minute file and for loading the model alone, so the table shows what
grows with the length of the file (nothing should), and the long file once more with one
iteration of multichannel Wiener filtering (``--wiener 1``). Each keeps the window
buffers, as ``cantata separate`` does (:func:`cantata.allocator.keep_window_buffers`); the
long file is measured once more with glibc's allocator defaults (as before), and once
keeping all freed memory (:func:`cantata.allocator.keep_freed_memory`, which ``cantata
separate`` does not do: the peak grows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from _report import machine, markers, record
from cantata import audio
from cantata.testing import write_compressed
from cantata.types import Waveform

MARK_BEGIN, MARK_END = markers("separation_memory")
EXAMPLE = Path(__file__).parents[1] / "examples" / "karissa-hobbs-lets-go-fishin-30s.ogg"
GOAL_GB = 1.5

CHILD = """
import json, sys, time
import torch
torch.set_num_threads(2)
from cantata.errors import ModelLoadError
from cantata.separate.api import Separator
model, path, out, wiener, allocator = sys.argv[1:6]
from cantata.allocator import keep_freed_memory, keep_window_buffers
if allocator != "glibc":
    keep = keep_freed_memory if allocator == "kept" else keep_window_buffers
    assert keep(), f"{keep.__name__} did not apply (unset MALLOC_*?)"
try:
    separator = Separator.from_pretrained(model, wiener=int(wiener))
except ModelLoadError:
    if model != "separator":
        raise
    model, separator = "debug", Separator.from_pretrained("debug", wiener=int(wiener))
start = time.perf_counter()
files = separator.separate_to_files(path, out, overwrite=True) if path != "-" else None
wall = time.perf_counter() - start
# VmHWM: the peak resident memory of this program. (ru_maxrss would not do: on Linux
# it also counts the parent's memory, which the child shares between fork and exec.)
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) * 1024
print(json.dumps({"model": model, "peak_bytes": peak, "wall_s": wall,
                  "duration_s": files.duration_s if files else 0.0}))
"""


def long_file(folder: Path, minutes: float, fmt: str) -> Path:
    """A stereo 44.1 kHz file of ``minutes``: the example song looped, written in blocks."""
    wav = audio.load(EXAMPLE)
    n_total = round(minutes * 60 * wav.sample_rate)
    loops = int(np.ceil(n_total / wav.n_samples))
    path = folder / f"long-{minutes:g}min.{fmt}"
    if fmt == "mp3":  # PyAV encodes from one array: the parent's memory, not the child's
        samples = np.tile(wav.samples, (1, loops))[:, :n_total]
        return write_compressed(path, Waveform(samples, wav.sample_rate))
    with sf.SoundFile(str(path), "w", wav.sample_rate, wav.n_channels,
                      subtype="PCM_16") as handle:
        for i in range(loops):
            handle.write(wav.samples[:, : n_total - i * wav.n_samples].T)
    return path


def measure(model: str, path: Path | str, out: Path, wiener: int = 0,
            allocator: str = "window") -> dict[str, float]:
    """Peak memory of separating ``path`` in a fresh process; ``allocator``: "window"
    (as ``cantata separate``), "glibc" (its defaults) or "kept" (all freed memory)."""
    done = subprocess.run([sys.executable, "-c", CHILD, model, str(path), str(out), str(wiener),
                           allocator], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows(model: str, minutes: float, fmt: str) -> tuple[list[str], str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        baseline = measure(model, "-", folder)
        short = measure(model, long_file(folder, 4, fmt), folder / "stems")
        path = long_file(folder, minutes, fmt)
        long = measure(model, path, folder / "stems")
        filtered = measure(model, path, folder / "stems", wiener=1)
        glibc = measure(model, path, folder / "stems", allocator="glibc")
        kept = measure(model, path, folder / "stems", allocator="kept")
    gb = 1024 ** 3
    ok, ok_filtered, ok_glibc, ok_kept = ("yes" if run["peak_bytes"] / gb < GOAL_GB
                                          else "**no**" for run in (long, filtered, glibc, kept))
    return [f"| load the model only | {baseline['peak_bytes'] / gb:.2f} GB | |",
            f"| separate a 4-minute {fmt} to 2 wav stems | {short['peak_bytes'] / gb:.2f} GB | "
            f"{short['duration_s'] / short['wall_s']:.1f}x |",
            f"| separate a {minutes:g}-minute {fmt} to 2 wav stems (goal < {GOAL_GB} GB: {ok}) "
            f"| **{long['peak_bytes'] / gb:.2f} GB** | {long['duration_s'] / long['wall_s']:.1f}x "
            f"|",
            f"| the same with `--wiener 1` (goal < {GOAL_GB} GB: {ok_filtered}) | "
            f"{filtered['peak_bytes'] / gb:.2f} GB | "
            f"{filtered['duration_s'] / filtered['wall_s']:.1f}x |",
            f"| the same with glibc's allocator defaults (as before 2026-12-06; goal < "
            f"{GOAL_GB} GB: {ok_glibc}) | {glibc['peak_bytes'] / gb:.2f} GB | "
            f"{glibc['duration_s'] / glibc['wall_s']:.1f}x |",
            f"| the same keeping all freed memory (opt-in, `cantata.allocator`; goal < {GOAL_GB} "
            f"GB: {ok_kept}) | {kept['peak_bytes'] / gb:.2f} GB | "
            f"{kept['duration_s'] / kept['wall_s']:.1f}x |"], long["model"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="separator")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--format", choices=["mp3", "flac", "wav"], default="mp3")
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    table, model = rows(args.model, args.minutes, args.format)
    if model != args.model:
        print(f"note: the shipped model {args.model!r} is not there yet; measured {model!r}")
    section = "\n".join([
        MARK_BEGIN,
        f"### Peak memory ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/separation_memory.py --model {model} --minutes {args.minutes:g} "
        f"--format {args.format}`: peak resident memory of a fresh process (2 torch "
        "threads) that separates a stereo 44.1 kHz file to two 16-bit wav stems.",
        "",
        "| job | peak RSS | speed |",
        "|---|---:|---:|",
        *table,
        MARK_END,
    ])
    print(section)
    if args.record:
        record(args.record, "separation_memory", section)


if __name__ == "__main__":
    main()
