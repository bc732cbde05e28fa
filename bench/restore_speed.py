"""How fast restoration runs on one thread: streaming and offline, at 44.1 and 48 kHz.

Usage:
    python bench/restore_speed.py [--model NAME_OR_CKPT] [--seconds S] [--repeat R]
                                  [--record]

Rows (real-time factor: processing seconds per audio second, lower is faster; the bar is
0.1 on one core), each the best of ``--repeat`` runs on ``--seconds`` of mono noise:

- ``stream``: :class:`~cantata.restore.streaming.StreamingDenoiser` fed one hop (8 ms at
  48 kHz) at a time, as ``cantata restore --live`` does (at 44.1 kHz with the stream
  resampled to 48 kHz and back, block by block);
- ``offline``: :meth:`AudioRestorer.restore` of the whole signal, denoising only
  (resampling included at 44.1 kHz);
- ``declick``: the declicker alone on the same signal.

``--record`` writes the table into ``docs/restore.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cantata import threads
from cantata.audio import StreamResampler
from cantata.restore.api import AudioRestorer
from cantata.restore.declick import declick
from cantata.types import Waveform

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_of, machine, markers, record  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "restore.md"


def stream(restorer: AudioRestorer, x: np.ndarray, rate: int) -> None:
    live = restorer.streamer(1)
    to_model = StreamResampler(rate, live.sample_rate, 1)
    back = StreamResampler(live.sample_rate, rate, 1)
    block = live.hop * rate // live.sample_rate
    for i in range(0, len(x), block):
        y = to_model.push(Waveform(x[None, i: i + block], rate))
        back.push(Waveform(live.process(y), live.sample_rate))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="restorer name or checkpoint (default: shipped)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="write into docs/restore.md")
    args = parser.parse_args(argv)
    threads.set_threads(1)
    restorer = AudioRestorer.from_pretrained(args.model, declick=False)
    rows = []
    for rate in (44100, 48000):
        x = (0.1 * np.random.default_rng(0).standard_normal(int(args.seconds * rate))
             ).astype(np.float32)
        jobs = {"stream": lambda x=x, rate=rate: stream(restorer, x, rate),
                "offline": lambda x=x, rate=rate: restorer.restore(x, sr=rate),
                "declick": lambda x=x, rate=rate: declick(x[None], rate)}
        times = {name: best_of(args.repeat, job) for name, job in jobs.items()}
        rows += [f"| {name} | {rate} | {t / args.seconds:.4f} |" for name, t in times.items()]
    latency = restorer.model.config.latency_s if restorer.model is not None else 0.0
    text = (f"Real-time factor on one thread ({machine()}; {args.seconds:g} s of audio, best "
            f"of {args.repeat}; model {args.model or 'shipped'}, algorithmic latency "
            f"{1000 * latency:.0f} ms):\n\n| mode | rate (Hz) | real-time factor |\n|---|---|---|\n"
            + "\n".join(rows) + "\n")
    print(text)
    if args.record:
        begin, end = markers("restore-speed")
        record(DOC, "restore-speed", f"{begin}\n{text}{end}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
