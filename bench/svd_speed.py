"""Detection speed and live latency.

Usage:
    python bench/svd_speed.py [--model singing] [--live-model singing-causal]
                              [--mir1k ../shared/data/mir1k] [--record docs/svd.md]

1. Offline speed: the detector on a 4-minute stereo 44.1 kHz mp3, decode included, in
   multiples of real time (2 torch threads), beside decoding alone (the floor of any
   detector that reads mp3) in the same run.
2. Live latency: the causal model streamed in 50 ms blocks over the held-out MIR-1K
   singers' clips; for each true change of singing state (from the clean vocal stem,
   after the same debouncing) the first event of the same kind within 1 s after it;
   latency = the stream time it was declared minus the true time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import torch

from _report import best_of, machine, markers, record
from cantata import audio
from cantata.detect.api import VoiceDetector
from cantata.detect.streaming import StreamingDetector
from cantata.testing import write_compressed
from cantata.types import Waveform
from svd_eval import mir1k_items

MARK_BEGIN, MARK_END = markers("svd_speed")
BLOCK_S = 0.05


def song_mp3(folder: Path) -> Path:
    """A 4-minute stereo 44.1 kHz mp3 made from the shipped example song, looped."""
    example = Path(__file__).parents[1] / "examples" / "karissa-hobbs-lets-go-fishin-30s.ogg"
    wav = audio.load(example)
    loops = int(np.ceil(240 * wav.sample_rate / wav.n_samples))
    samples = np.tile(wav.samples, (1, loops))[:, : 240 * wav.sample_rate]
    return write_compressed(folder / "four-minutes.mp3", Waveform(samples, wav.sample_rate))




def speed_rows(model: str) -> list[str]:
    torch.set_num_threads(2)
    detector = VoiceDetector.from_pretrained(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = song_mp3(Path(tmp))
        decode = best_of(3, lambda: [b for b in audio.stream(path, block_s=30, sample_rate=16000,
                                                            mono=True)])
        detect = best_of(3, lambda: detector.detect(path))
    return [f"| decode only (mp3 -> 16 kHz mono, streamed) | {240 / decode:.0f}x |",
            f"| `cantata detect` with `{model}` (decode + features + model + regions) | "
            f"**{240 / detect:.0f}x** |"]


def true_changes(ref: np.ndarray, hop_s: float) -> list[tuple[str, float]]:
    edges = np.diff(ref.astype(np.int8))
    return [("started" if d > 0 else "stopped", (i + 0.5) * hop_s)  # frame i centred on i*hop
            for i, d in enumerate(edges) if d != 0]


def latency_rows(model: str, mir1k: str) -> list[str]:
    detector = VoiceDetector.from_pretrained(model)
    live = StreamingDetector(detector)
    latencies, missed, n_true, n_events = [], 0, 0, 0
    block = round(BLOCK_S * 16000)
    for _, mix, ref in mir1k_items(mir1k):
        live.reset()
        events = [e for i in range(0, len(mix), block) for e in live.push(mix[i:i + block])]
        n_events += len(events)
        for kind, t in true_changes(ref, detector.hop_s):
            n_true += 1
            match = next((e for e in events if e.kind == kind and t - 0.1 <= e.time_s <= t + 1.0),
                         None)
            if match is None:
                missed += 1
            else:
                latencies.append(match.declared_s - t)
    lat = np.array(latencies) * 1000
    return [f"| true changes of singing state | {n_true} |",
            f"| matched by an event within 1 s | {n_true - missed} "
            f"({100 * (n_true - missed) / max(n_true, 1):.0f} %) |",
            f"| events declared in all | {n_events} |",
            f"| latency median / p90 / max | **{np.median(lat):.0f} / "
            f"{np.percentile(lat, 90):.0f} / {lat.max():.0f} ms** |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="singing")
    parser.add_argument("--live-model", default="singing-causal")
    parser.add_argument("--mir1k", default=str(Path(__file__).parents[2] / "shared" / "data" /
                                                "mir1k"))
    parser.add_argument("--record", help="write the tables into this markdown file")
    args = parser.parse_args()
    section = "\n".join([
        MARK_BEGIN,
        f"### Speed and live latency ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/svd_speed.py --model {args.model} --live-model {args.live_model}`. "
        "Offline: a 4-minute stereo 44.1 kHz mp3, best of 3, 2 torch threads, multiples of "
        "real time (goal >= 300x).",
        "",
        "| job | speed |",
        "|---|---:|",
        *speed_rows(args.model),
        "",
        f"Live: `{args.live_model}` streamed in {1000 * BLOCK_S:.0f} ms blocks over the held-out "
        "MIR-1K singers' clips (goal: latency <= 250 ms).",
        "",
        "| measure | value |",
        "|---|---:|",
        *latency_rows(args.live_model, args.mir1k),
        MARK_END,
    ])
    print(section)
    if args.record:
        record(args.record, "svd_speed", section)


if __name__ == "__main__":
    main()
