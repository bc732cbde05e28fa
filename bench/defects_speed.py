"""How fast defect detection runs on whole files, decoding included, against its parts.

Usage:
    python bench/defects_speed.py [FILE ...] [--model NAME_OR_CKPT] [--threads N]
                                  [--repeat R] [--essentia] [--jobs N]

Without files, it times the two demo songs (``examples/``). Each row is the best of
``--repeat`` runs over all the files (the machine is shared), as audio seconds per wall
second ("x real time"), in one process, one after another:

- ``decode``: the file to float samples at its own rate (the floor under everything);
- ``rules``: decode, then every rule (:func:`cantata.defects.rules.detect`);
- ``detector``: :meth:`DefectDetector.detect` on the file — what ``cantata defects`` does
  per file: one decoding pass feeding the model's windows and the rules its decisions use;
- ``essentia`` (``--essentia``): decode, then Essentia's five detectors.

With ``--jobs N`` (N > 1), one more row, ``detector xN``: the files shared among N worker
processes (spawned) of one thread each, as ``cantata scan --jobs N`` runs them — a catalog's
throughput (give many files of similar length, or the slowest worker decides).

``--threads`` sets torch's, BLAS's and OpenMP's threads (:func:`cantata.threads.set_threads`,
as ``cantata defects --threads`` does): numpy's BLAS left at its default would use every
core even in a "one-thread" run.

The issue's bar is 300x real time on 2 cores, decoding included (the ``detector`` row, or
``detector x2`` for a catalog).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cantata import audio, threads
from cantata.defects import DefectDetector, peers, rules
from cantata.errors import CantataError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def best_of(repeat: int, files: Sequence[Path], run: Callable[[Path], object]) -> float:
    """The fastest of ``repeat`` passes over ``files``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for f in files:
            run(f)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="audio files (default: examples/)")
    parser.add_argument("--model", default=None, help="defect detector (default: shipped)")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch, BLAS and OpenMP threads (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best counts")
    parser.add_argument("--essentia", action="store_true", help="also time Essentia")
    parser.add_argument("--jobs", type=int, default=1,
                        help="also time the detector over N worker processes (default 1: no)")
    args = parser.parse_args(argv)
    threads.set_threads(args.threads)
    files = args.files or sorted(p for p in EXAMPLES.iterdir()
                                 if p.suffix in (".ogg", ".flac", ".wav", ".mp3"))
    seconds = sum(audio.info(f).duration_s for f in files)
    detector = DefectDetector.from_pretrained(args.model)
    rows: list[tuple[str, Callable[[Path], object]]] = [
        ("decode", audio.load),
        ("rules", lambda f: rules.detect(audio.load(f))),
        ("detector", detector.detect),
    ]
    if args.essentia:
        rows.append(("essentia", lambda f: peers.essentia_events(audio.load(f))))
    detector.detect(files[0])  # warm-up: first-call costs are not the steady state
    print(f"{len(files)} files, {seconds:.1f} s of audio, {args.threads} threads, "
          f"model {detector.name}, decisions from the rules for: "
          f"{', '.join(detector.rule_types) or 'none'}")
    print(f"{'what':<10} {'wall s':>8} {'x real time':>12}")
    for name, run in rows:
        wall = best_of(args.repeat, files, run)
        print(f"{name:<10} {wall:>8.2f} {seconds / wall:>12.0f}")
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_worker, initargs=(args.model,)) as pool:
            list(pool.map(_detect, files[:args.jobs]))  # warm the workers up
            wall = float("inf")
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                list(pool.map(_detect, files))
                wall = min(wall, time.perf_counter() - t0)
        print(f"{'detector x' + str(args.jobs):<10} {wall:>8.2f} {seconds / wall:>12.0f}")
    return 0


_WORKER: dict[str, DefectDetector] = {}


def _start_worker(model: str | None) -> None:
    threads.set_threads(1)
    _WORKER["detector"] = DefectDetector.from_pretrained(model)


def _detect(path: Path) -> None:
    _WORKER["detector"].detect(path)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CantataError as err:
        print(f"defects_speed: {err}", file=sys.stderr)
        sys.exit(1)
