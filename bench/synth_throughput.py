"""Hours of training audio the synthetic factory makes per CPU-hour, for each kind.

Usage:
    python bench/synth_throughput.py [--examples 8] [--example-s 30] [--record docs/benchmarks.md]

Runs the real factory (one process, so CPU time = wall time of the work, subprocesses
such as fluidsynth and espeak-ng included) into a temporary folder, then times the
stages on their own: composing and rendering the accompaniment, singing, speaking,
and labelling + writing. Goal: >= 20 h of songs per CPU-hour.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable

import numpy as np

from _report import machine, markers, record
from cantata.data.synth.factory import FactoryConfig, synthesize

MARK_BEGIN, MARK_END = markers("synth_throughput")


def cpu_time() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(job: Callable[[], float]) -> tuple[float, float]:
    """(CPU seconds, seconds of audio the job made)."""
    start = cpu_time()
    audio_s = job()
    return cpu_time() - start, audio_s


def kind_rows(n_examples: int, config: FactoryConfig) -> list[str]:
    rows = []
    for kind in ("song", "speech-mix"):
        with tempfile.TemporaryDirectory(prefix="cantata-synth-bench-") as tmp:
            report = synthesize(kind, hours=n_examples * config.example_s / 3600, out_dir=tmp,
                                jobs=1, seed=123, config=config)
        rate = report.hours / (report.cpu_s / 3600)
        rows.append(f"| {kind} | {report.n_examples} x {config.example_s:g} s | "
                    f"{report.cpu_s:.1f} s | **{rate:.1f} h** |")
    return rows


def stage_rows(n: int, config: FactoryConfig) -> list[str]:
    from cantata.data.synth.accompaniment import compose, render
    from cantata.data.synth.singing import sing
    from cantata.data.synth.speech import random_speech

    rng = np.random.default_rng(7)
    rate, length = config.sample_rate, config.example_s
    arrangements = [compose(rng, duration_s=length) for _ in range(n)]
    stages: dict[str, Callable[[], float]] = {
        "compose (accompaniment + melody)":
            lambda: len([compose(rng, duration_s=length) for _ in range(n)]) * length,
        "render (FluidSynth + effects)":
            lambda: sum(render(a, sample_rate=rate, rng=rng).duration_s for a in arrangements),
        "sing (espeak-ng + WORLD), new voice per song":
            lambda: sum(sing(a.melody, rng, sample_rate=rate)[0].duration_s
                        for a in arrangements),
        "speak (espeak-ng)":
            lambda: sum(random_speech(rng, sample_rate=rate)[0].duration_s
                        for _ in range(4 * n)),
    }
    rows = []
    for name, job in stages.items():
        seconds, audio_s = timed(job)
        rows.append(f"| {name} | {seconds / audio_s * 30:.2f} s | {audio_s / seconds:.0f}x |")
    return rows


def report(n_examples: int, example_s: float) -> str:
    config = FactoryConfig(example_s=example_s)
    kinds = kind_rows(n_examples, config)
    stages = stage_rows(max(2, n_examples // 2), config)
    return "\n".join([
        MARK_BEGIN,
        f"### Synthetic training material ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/synth_throughput.py --examples {n_examples} --example-s {example_s:g}`: "
        f"the factory in one process at {config.sample_rate} Hz; CPU time includes the "
        "fluidsynth and espeak-ng subprocesses. Goal: >= 20 h of songs per CPU-hour.",
        "",
        "| kind | made | CPU time | audio per CPU-hour |",
        "|---|---|---:|---:|",
        *kinds,
        "",
        "Where the time goes (CPU seconds per 30 s of output; speed in multiples of real time):",
        "",
        "| stage | CPU per 30 s | speed |",
        "|---|---:|---:|",
        *stages,
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=8)
    parser.add_argument("--example-s", type=float, default=30.0)
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    start = time.perf_counter()
    section = report(args.examples, args.example_s)
    print(section)
    print(f"(bench took {time.perf_counter() - start:.0f} s)")
    if args.record:
        record(args.record, "synth_throughput", section)


if __name__ == "__main__":
    main()
