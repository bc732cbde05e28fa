"""The live side of ``cantata detect``: events from a stream, and karaoke prompts."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cantata import threads
from cantata.cli.output import Output, plural
from cantata.errors import CantataError

BLOCK_S = 0.05
LIVE_MODEL = "singing-causal"


def run_live(args: argparse.Namespace, out: Output) -> int:
    """``cantata detect --live [SOURCE] [--karaoke ORIGINAL]``."""
    from cantata.detect.api import VoiceDetector
    from cantata.detect.karaoke import should_prompt
    from cantata.detect.streaming import StreamingDetector

    if len(args.files) > 1:
        raise CantataError("--live takes one source: a file, '-' for stdin, or none (microphone)")
    if args.threads is None:  # 50 ms blocks are too small to share (docs/benchmarks.md)
        threads.set_threads(1)
    with out.loading("the detector"):
        detector = VoiceDetector.from_pretrained(args.model or LIVE_MODEL)
    original = _original_regions(args.karaoke) if args.karaoke else []
    live = StreamingDetector(detector)
    rate = detector.features.sample_rate
    silent_since: float | None = 0.0
    prompted_at = -1.0
    for block in _blocks(args.files[0] if args.files else None, rate, paced=not args.fast):
        for event in live.push(block):
            silent_since = event.time_s if event.kind == "stopped" else None
            _print(out, {"event": f"singing {event.kind}", "time_s": round(event.time_s, 3),
                         "latency_ms": round(1000 * event.latency_s)})
        now = live.received / rate
        if original and now - prompted_at > 2.0 and should_prompt(
                original, now_s=now, silent_since_s=silent_since):
            prompted_at = now
            _print(out, {"event": "prompt: the original sings, the singer stopped",
                         "time_s": round(now, 3)})
    return 0


def run_compare(args: argparse.Namespace, out: Output) -> int:
    """``cantata detect --karaoke ORIGINAL TAKE``: where the take misses the original's singing."""
    from cantata.detect.api import VoiceDetector
    from cantata.detect.karaoke import missed_singing

    if len(args.files) != 1:
        raise CantataError("--karaoke ORIGINAL needs exactly one TAKE file to compare")
    with out.loading("the detector"):
        detector = VoiceDetector.from_pretrained(args.model or "singing")
    original, take = detector.detect(args.karaoke), detector.detect(args.files[0])
    missed = missed_singing(original, take)
    rows = [{"start": round(s.start_s, 3), "end": round(s.end_s, 3)} for s in missed]
    if out.json_mode:
        out.json({"original": str(args.karaoke), "take": args.files[0], "missed": rows})
    else:
        out.show(f"{plural(len(rows), 'stretch', 'stretches')} where the original sings and "
                 "the take does not:")
        for r in rows:
            out.show(f"  {r['start']:8.2f} – {r['end']:8.2f} s")
    return 0


def _original_regions(path: Path) -> list[Any]:
    from cantata.detect.api import VoiceDetector

    return VoiceDetector.from_pretrained("singing").detect(path)


def _print(out: Output, event: dict[str, Any]) -> None:
    if out.json_mode:
        print(json.dumps(event), flush=True)
    else:
        extra = f" (+{event['latency_ms']} ms)" if "latency_ms" in event else ""
        print(f"{event['time_s']:9.2f} s  {event['event']}{extra}", flush=True)


def _blocks(source: str | None, rate: int, *, paced: bool) -> Iterator[np.ndarray]:
    """Mono blocks of BLOCK_S at ``rate`` from a file, stdin, or the microphone."""
    if source == "-":
        yield from _stdin_blocks(rate)
    elif source is None:
        yield from _microphone_blocks(rate)
    else:
        yield from _file_blocks(source, rate, paced=paced)


def _file_blocks(path: str, rate: int, *, paced: bool) -> Iterator[np.ndarray]:
    """A file played in real time (or as fast as possible without pacing)."""
    from cantata import audio

    start = time.monotonic()
    sent = 0
    for block in audio.stream(path, block_s=BLOCK_S, sample_rate=rate, mono=True):
        sent += block.n_samples
        if paced:
            time.sleep(max(0.0, sent / rate - (time.monotonic() - start)))
        yield block.samples[0]


def _stdin_blocks(rate: int) -> Iterator[np.ndarray]:
    """Raw 16-bit little-endian mono PCM at ``rate`` on stdin (e.g. from ffmpeg or arecord)."""
    size = round(BLOCK_S * rate) * 2
    while chunk := sys.stdin.buffer.read(size):
        usable = len(chunk) // 2 * 2
        yield np.frombuffer(chunk[:usable], "<i2").astype(np.float32) / 32768


def _microphone_blocks(rate: int) -> Iterator[np.ndarray]:
    try:
        import sounddevice
    except ImportError as err:
        raise CantataError("no microphone support here: pip install sounddevice (and a sound "
                           "device), or give a file, or '-' for raw PCM on stdin") from err
    try:
        with sounddevice.InputStream(samplerate=rate, channels=1, dtype="float32",
                                     blocksize=round(BLOCK_S * rate)) as stream:
            while True:
                block, _ = stream.read(round(BLOCK_S * rate))
                yield block[:, 0]
    except sounddevice.PortAudioError as err:
        raise CantataError(f"cannot open the microphone ({err})") from err
