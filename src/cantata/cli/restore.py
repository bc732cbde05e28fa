"""``cantata restore FILE_OR_DIR... -o DIR``: declick and denoise recordings;
``cantata restore --live``: denoise raw PCM from stdin to stdout as it arrives."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from cantata.cli.inputs import each_file, expand_inputs, names_apart, prepare_out_dir
from cantata.cli.output import Output, plural
from cantata.errors import CantataError, ModelLoadError

FORMATS = ("wav", "flac")
#: live blocks: 10 ms of 16-bit PCM at a time are read from stdin
LIVE_BLOCK_S = 0.01


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("restore", parents=parents, help="denoise and declick recordings",
                       description="Remove clicks (detection and autoregressive "
                                   "interpolation) and background noise, hum and hiss (a "
                                   "causal CRNN mask); writes DIR/<input stem>.<ext> at the "
                                   "input's rate and channels.")
    p.add_argument("files", nargs="*", metavar="FILE_OR_DIR",
                   help="audio files, or folders (searched recursively for audio files)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="output folder (inputs named alike: <stem>-2, ... in input order)")
    p.add_argument("--denoise", action=argparse.BooleanOptionalAction, default=True,
                   help="remove background noise (default on)")
    p.add_argument("--declick", action=argparse.BooleanOptionalAction, default=True,
                   help="remove clicks and crackle (default on)")
    p.add_argument("--strength", type=float, metavar="S",
                   help="denoising strength: 0 leaves the audio alone, 1 applies the mask as "
                        "trained, up to 4 removes more noise with more artefacts (default: "
                        "the model's, chosen on its validation data)")
    p.add_argument("--format", choices=FORMATS, default="wav", help="output format")
    p.add_argument("--bits", choices=["16", "24", "32f"], default="16",
                   help="sample format (32f: float, wav only; default 16)")
    p.add_argument("--model", help="a shipped restorer, 'debug', or a checkpoint path")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    live = p.add_argument_group("live")
    live.add_argument("--live", action="store_true",
                      help="denoise raw 16-bit little-endian PCM from stdin to stdout as it "
                           "arrives (denoising only; output delayed by the model's latency)")
    live.add_argument("--rate", type=int, default=48000, help="live PCM rate (default 48000)")
    live.add_argument("--channels", type=int, default=1, help="live PCM channels (default 1)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata.restore.api import AudioRestorer, output_subtype

    if args.strength is not None and not 0 <= args.strength <= 4:
        raise CantataError(f"--strength must be within 0..4, got {args.strength}")
    if args.live:
        return run_live(args)
    if not args.denoise and not args.declick:
        raise CantataError("nothing to do: --no-denoise and --no-declick")
    if not args.files or args.out is None:
        raise CantataError("give audio files or folders and -o DIR (or --live)")
    output_subtype(args.format, args.bits)  # a bad pair fails before any work
    files = expand_inputs(args.files)
    with out.loading("the restorer"):
        try:
            restorer = AudioRestorer.from_pretrained(args.model, denoise=args.denoise,
                                                     declick=args.declick,
                                                     strength=args.strength)
        except ModelLoadError as err:
            if args.model is None and args.declick:
                raise ModelLoadError(f"{err}; or declick only: --no-denoise") from err
            raise
    prepare_out_dir(args.out)
    names = names_apart(files)

    def one(path: str) -> dict[str, Any]:
        dest = args.out / f"{names[path]}.{args.format}"
        report = restorer.restore_to_file(path, dest, bits=args.bits, overwrite=args.overwrite)
        return {"file": path, "output": str(dest), "clicks": report.clicks,
                "denoised": report.model is not None, "model": report.model,
                "strength": restorer.strength if args.denoise else None}

    done, failed = each_file(out, files, "restoring", one)
    if out.json_mode:
        out.json(done)
    elif not out.quiet:
        clicks = sum(d["clicks"] for d in done)
        out.show(f"restored {plural(len(done), 'file')} into {args.out}"
                 + (f", {plural(clicks, 'click')} filled" if args.declick else ""))
    return 2 if failed else 0


def run_live(args: argparse.Namespace, source: BinaryIO | None = None,
             sink: BinaryIO | None = None) -> int:
    """Denoise 16-bit PCM from ``source`` (stdin) to ``sink`` (stdout), block by block."""
    from cantata import threads
    from cantata.audio import StreamResampler
    from cantata.restore.api import AudioRestorer
    from cantata.types import Waveform

    if args.files or args.out is not None:
        raise CantataError("--live reads stdin and writes stdout: give no files and no -o")
    if args.rate <= 0 or not 1 <= args.channels <= 8:
        raise CantataError("--rate must be > 0 and --channels within 1..8")
    if args.threads is None:  # small blocks are too small to share
        threads.set_threads(1)
    source = source or sys.stdin.buffer
    sink = sink or sys.stdout.buffer
    restorer = AudioRestorer.from_pretrained(args.model, declick=False, strength=args.strength)
    live = restorer.streamer(args.channels)
    to_model = StreamResampler(args.rate, live.sample_rate, args.channels)
    back = StreamResampler(live.sample_rate, args.rate, args.channels)
    frame = 2 * args.channels
    size = max(1, round(LIVE_BLOCK_S * args.rate)) * frame
    pending = b""
    while chunk := source.read(size):
        pending += chunk
        usable = len(pending) - len(pending) % frame
        pcm = np.frombuffer(pending[:usable], "<i2").reshape(-1, args.channels).T
        pending = pending[usable:]
        x = to_model.push(Waveform(pcm.astype(np.float32) / 32768, args.rate))
        y = back.push(Waveform(live.process(x), live.sample_rate)) if x.shape[1] else x
        if y.shape[1]:
            sink.write(_pcm16(y))
            sink.flush()
    return 0


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1 - 1 / 32768) * 32768).round().astype("<i2").T.tobytes()
