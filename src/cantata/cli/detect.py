"""``cantata detect FILE...``: where the singing is (and accompaniment, and silence)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NamedTuple

from rich.table import Table

from cantata.cli.inputs import (
    each_file,
    expand_inputs,
    names_apart,
    prepare_out_dir,
    write_output,
)
from cantata.cli.output import Output, plural
from cantata.errors import CantataError

TASK_MODELS = {"binary": "singing", "multilabel": "singing-multilabel"}


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("detect", parents=parents, help="find singing in songs",
                       description="Detect singing (binary) or singing / accompaniment / "
                                   "silence (multilabel) as time regions.")
    p.add_argument("files", nargs="*", metavar="FILE_OR_DIR",
                   help="audio files, or folders (searched recursively for audio files); with "
                        "--live one source: a file, '-' for raw 16-bit mono PCM at 16 kHz on "
                        "stdin, or none for the microphone")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="write one result file per input: DIR/<input stem>.<ext> (inputs "
                        "named alike: <stem>-2, <stem>-3, ... in input order)")
    p.add_argument("--format", choices=["json", "csv", "audacity"],
                   help="result file format with -o (default json); without -o, print the "
                        "results in this format instead of tables")
    p.add_argument("--task", choices=list(TASK_MODELS), default="binary")
    p.add_argument("--model", help="a shipped model name or a checkpoint path (overrides --task)")
    p.add_argument("--plot", action="store_true",
                   help="also write a PNG per input: spectrogram with region lanes "
                        "(DIR/<input stem>.png, or ./<input stem>.png without -o)")
    p.add_argument("--overwrite", action="store_true", help="replace existing result files")
    p.add_argument("--live", action="store_true",
                   help="print 'singing started / stopped' events as the audio plays")
    p.add_argument("--fast", action="store_true", help="with --live on a file: do not pace it")
    p.add_argument("--karaoke", type=Path, metavar="ORIGINAL",
                   help="compare with the original song: where it sings and the take does not "
                        "(with --live: prompt when the singer stops)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata.cli import live

    if args.live:
        return live.run_live(args, out)
    if args.karaoke:
        return live.run_compare(args, out)
    if not args.files:
        raise CantataError("give one or more audio files or folders (or --live)")
    files = _check_args(args)
    names = names_apart(files)
    with out.loading("the detector"):
        from cantata.detect.api import VoiceDetector

        detector = VoiceDetector.from_pretrained(args.model or TASK_MODELS[args.task])
    done, failed = each_file(out, files, "detecting",
                             lambda path: _one(detector, path, names[path], args))
    _report(done, args, out)
    return 2 if failed else 0


def _check_args(args: argparse.Namespace) -> list[str]:
    """The input files, after refusing what would fail only once the model is loaded."""
    files = expand_inputs(args.files)
    if args.out is None and args.format == "audacity" and len(files) > 1:
        raise CantataError("--format audacity without -o takes one file (give -o DIR to "
                           "write one label file per input)")
    if args.out is not None:
        prepare_out_dir(args.out)
    return files


class _Done(NamedTuple):
    """One input's regions: as JSON (``result``), as found, and its plot if any."""

    result: dict[str, Any]
    regions: list[Any]
    plot: Path | None


def _one(detector: Any, path: str, name: str, args: argparse.Namespace) -> _Done:
    from cantata.detect.formats import FORMATS, regions_dict, render

    frames = detector.frame_probs(path)
    regions = detector.segments_of(frames)
    if args.out is not None:
        fmt = args.format or "json"
        dest = args.out / f"{name}.{FORMATS[fmt]}"
        write_output(dest, lambda tmp: tmp.write_text(render(fmt, path, regions), encoding="utf-8"),
               overwrite=args.overwrite)
    png = _plot(detector, path, regions, (args.out or Path(".")) / f"{name}.png",
                overwrite=args.overwrite) if args.plot else None
    return _Done(regions_dict(path, regions, model=detector.name,
                              duration_s=frames.duration_s), regions, png)


def _plot(detector: Any, path: str, regions: list[Any], png: Path, *, overwrite: bool) -> Path:
    from cantata import audio
    from cantata.plot import plot_lanes

    wav = audio.load(path, mono=True)
    write_output(png, lambda tmp: plot_lanes(wav, regions, tmp, labels=detector.labels,
                                             title=f"{Path(path).name} ({detector.name})"),
                 overwrite=overwrite)
    return png


def _report(done: list[_Done], args: argparse.Namespace, out: Output) -> None:
    from cantata.detect.formats import render_many

    if out.json_mode or (args.out is None and args.format == "json"):
        out.json([d.result for d in done])
    elif args.out is not None:
        out.summary(f"wrote {plural(len(done), 'result file')} to {args.out}")
    elif args.format is not None:
        sys.stdout.write(render_many(args.format, [(d.result["file"], d.regions)
                                                   for d in done]))
    else:
        for d in done:
            out.show(_summary(d.result))
            out.show(_table(d.result))
    for d in done:
        if d.plot is not None:
            out.summary(f"plot: {d.plot}")


def _summary(result: dict[str, Any]) -> str:
    totals: dict[str, float] = {}
    for r in result["regions"]:
        totals[r["label"]] = totals.get(r["label"], 0.0) + r["end"] - r["start"]
    found = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in totals.items())
    return (f"[bold]{result['file']}[/]: {plural(len(result['regions']), 'region')} "
            f"({found or 'none'})")


def _table(result: dict[str, Any]) -> Table:
    table = Table()
    for name in ("start", "end", "label", "confidence"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for r in result["regions"]:
        table.add_row(f"{r['start']:.2f}", f"{r['end']:.2f}", r["label"],
                      f"{r['confidence']:.2f}")
    return table
