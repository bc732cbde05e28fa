"""Threads and load: each command with 1, 2 and the default threads, idle and beside a busy process.

Usage:
    python bench/threads.py [--song-s 60] [--detect-s 300] [--repeats 2]
                            [--record docs/benchmarks.md]

Each cell runs the whole ``cantata`` command in a fresh process (start-up and model load
included, as a user waits for it) on the example song looped to ``--song-s`` (separate)
or ``--detect-s`` seconds (detect, ``detect --live --fast``), with ``--threads 1``,
``--threads 2`` or no flag (the default, :func:`cantata.threads.default_threads`; the
count it chose is read from the ``-vv`` log). "loaded": a competing busy process (one
pure-Python spinning loop, which ends itself after ``--song-s`` x 4 seconds at the
latest) is started 0.5 s before the command and killed after it. Cells alternate, best
of ``--repeats``. Real-time factor = wall-clock seconds / seconds of audio (below 1:
faster than real time); each ratio is against one thread under the same load, in the
same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _report import machine, markers, record
from separation_memory import long_file

COMMANDS = {
    "separate": lambda song, out: ["separate", song, "-o", out, "--overwrite"],
    "detect": lambda song, out: ["detect", song, "-o", out, "--overwrite"],
    "detect --live --fast": lambda song, out: ["detect", "--live", "--fast", song],
}
SETTINGS = ("1", "2", "default")
LOADS = ("idle", "loaded")
BUSY = ("import sys, time\nend = time.time() + float(sys.argv[1])\n"
        "while time.time() < end:\n    pass")
CANTATA = Path(sys.executable).with_name("cantata")


@contextmanager
def competitor(load: str, max_s: float) -> Iterator[None]:
    """A busy process beside the command when ``load`` is "loaded" (bounded in time)."""
    if load == "idle":
        yield
        return
    busy = subprocess.Popen([sys.executable, "-c", BUSY, str(max_s)])
    try:
        time.sleep(0.5)
        yield
    finally:
        busy.kill()
        busy.wait()


def timed(argv: list[str], setting: str) -> tuple[float, int]:
    """(wall-clock seconds, threads used) of one ``cantata`` run."""
    flags = [] if setting == "default" else ["--threads", setting]
    start = time.perf_counter()
    done = subprocess.run([str(CANTATA), *argv, *flags, "-vv"], capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr}")
    used = re.findall(r"using (\d+) thread", done.stderr)  # the last count set
    return seconds, int(used[-1]) if used else 0


def measure(command: str, song: Path, out: Path, *, repeats: int,
            max_s: float) -> dict[tuple[str, str], tuple[float, int]]:
    """Best wall time (and threads used) per (load, setting), cells alternating."""
    best: dict[tuple[str, str], tuple[float, int]] = {}
    for _ in range(repeats):
        for load in LOADS:
            for setting in SETTINGS:
                with competitor(load, max_s):
                    run = timed(COMMANDS[command](str(song), str(out)), setting)
                key = (load, setting)
                best[key] = min(best.get(key, run), run)
    return best


def rows(song_s: float, detect_s: float, repeats: int) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        songs = {"separate": long_file(folder, song_s / 60, "wav")}
        songs["detect"] = songs["detect --live --fast"] = long_file(folder, detect_s / 60, "wav")
        for command, song in songs.items():
            audio_s = song_s if command == "separate" else detect_s
            best = measure(command, song, folder / "out", repeats=repeats, max_s=4 * song_s)
            for load in LOADS:
                one = best[(load, "1")][0]
                cells = [f"{best[(load, s)][0] / audio_s:.3f} ({one / best[(load, s)][0]:.2f}x)"
                         for s in SETTINGS]
                lines.append(f"| `{command}` | {load} | " + " | ".join(cells)
                             + f" | {best[(load, 'default')][1]} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--song-s", type=float, default=60)
    parser.add_argument("--detect-s", type=float, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    begin, end = markers("threads")
    section = "\n".join([
        begin,
        f"### Threads under load ({dt.date.today()}, {machine()}, load average "
        f"{os.getloadavg()[0]:.1f} before the run)",
        "",
        f"`python bench/threads.py --song-s {args.song_s:g} --detect-s {args.detect_s:g} "
        f"--repeats {args.repeats}`: the whole command in a fresh process (start-up and model "
        f"load included) on the example song looped to {args.song_s:g} s (separate) or "
        f"{args.detect_s:g} s (detect); loaded = beside one busy process; best of the "
        "repeats. Real-time factor = wall-clock time / audio time (lower is better; below 1 "
        "is faster than real time), and in brackets the speed-up over one thread under the "
        "same load, in the same run.",
        "",
        "| command | machine | 1 thread | 2 threads | default | default chose |",
        "|---|---|---:|---:|---:|---:|",
        *rows(args.song_s, args.detect_s, args.repeats),
        end,
    ])
    print(section)
    if args.record:
        record(args.record, "threads", section)


if __name__ == "__main__":
    main()
