"""Speed of ``cantata assess``: multiples of real time, decoding included, on N processes.

Usage:
    python bench/assess_speed.py --work DIR [--jobs 2] [--limit 12]

Makes full-length tracks from the Debian wesnoth soundtrack (44.1 kHz stereo) as 16-bit
FLAC and as 320 kbit/s MP3 (once, under ``--work``), then assesses each set with ``--jobs``
worker processes (spawned, one thread and one ``Assessor`` each) and prints audio seconds per
wall second, plus where the time of one process goes on one track.
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/core/music")


def make(work: Path, limit: int) -> dict[str, list[Path]]:
    sets: dict[str, list[Path]] = {"flac": [], "mp3": []}
    for src in sorted(WESNOTH.glob("*.ogg"))[:limit]:
        for kind, argv in (("flac", ["-sample_fmt", "s16"]),
                           ("mp3", ["-c:a", "libmp3lame", "-b:a", "320k"])):
            dest = work / kind / f"{src.stem}.{kind}"
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i",
                                str(src), *argv, str(dest)], check=True)
            sets[kind].append(dest)
    return sets


def _one_thread() -> None:
    from cantata import threads

    threads.set_threads(1)  # BLAS and OpenMP too: a thread per worker, as a scan's workers


def _assess(path: Path) -> float:
    from cantata.assess import Assessor

    return Assessor().assess(path).duration_s


def stages(path: Path) -> dict[str, float]:
    """Seconds of each stage on one track, one process."""
    from cantata import audio
    from cantata.assess import bandwidth, loudness, signal

    out: dict[str, float] = {}

    def timed(name: str, job):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        value = job()
        out[name] = time.perf_counter() - start
        return value

    wav = timed("decode", lambda: audio.load(path))
    x, rate = wav.samples, wav.sample_rate
    timed("bandwidth", lambda: bandwidth.analyse(x, rate))
    timed("loudness + true peak", lambda: loudness.measure_loudness(x, rate))
    timed("clipping, DC, stereo, silence", lambda: (
        signal.clipping(x, rate), signal.dc_offset(x), signal.stereo(x),
        signal.silence(x, rate)))
    timed("hash", lambda: signal.pcm_hash(x))
    out["audio_s"] = wav.duration_s
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=12)
    args = parser.parse_args(argv)
    sets = make(args.work, args.limit)
    print(f"{'set':6s} {'tracks':>6s} {'audio min':>9s} {'wall s':>7s} {'x real time':>11s}")
    spawn = multiprocessing.get_context("spawn")  # as `cantata scan --jobs N` starts them
    with ProcessPoolExecutor(args.jobs, mp_context=spawn, initializer=_one_thread) as pool:
        list(pool.map(_assess, sets["flac"][:args.jobs]))  # warm the workers up
        for kind, files in sets.items():
            start = time.perf_counter()
            audio_s = sum(pool.map(_assess, files))
            wall = time.perf_counter() - start
            print(f"{kind:6s} {len(files):6d} {audio_s / 60:9.1f} {wall:7.2f} "
                  f"{audio_s / wall:11.0f}")
    track = sets["flac"][0]
    stages(track)  # imports and caches
    spent = stages(track)
    audio_s = spent.pop("audio_s")
    total = sum(spent.values())
    print(f"\none process, {track.name} ({audio_s:.0f} s): {total * 1000:.0f} ms, "
          f"{audio_s / total:.0f}x real time")
    for name, seconds in spent.items():
        print(f"  {name:32s} {seconds * 1000:7.1f} ms  {100 * seconds / total:4.0f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
