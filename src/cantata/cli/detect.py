"""``cantata detect FILE...``: where the singing is (and accompaniment, and silence)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from cantata.cli.output import Output
from cantata.errors import CantataError

TASK_MODELS = {"binary": "singing", "multilabel": "singing-multilabel"}


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("detect", parents=parents, help="find singing in songs",
                       description="Detect singing (binary) or singing / accompaniment / "
                                   "silence (multilabel) as time regions.")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="audio files; with --live one source: a file, '-' for raw 16-bit mono "
                        "PCM at 16 kHz on stdin, or none for the microphone")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="write one result file per input: DIR/<input stem>.<ext>")
    p.add_argument("--format", choices=["json", "csv", "audacity"], default="json",
                   help="result file format with -o (default json)")
    p.add_argument("--task", choices=list(TASK_MODELS), default="binary")
    p.add_argument("--model", help="a shipped model name or a checkpoint path (overrides --task)")
    p.add_argument("--plot", action="store_true",
                   help="also write a PNG: spectrogram with region lanes (into DIR, or here)")
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
    from cantata.detect.api import VoiceDetector

    if args.live:
        return live.run_live(args, out)
    if args.karaoke:
        return live.run_compare(args, out)
    if not args.files:
        raise CantataError("give one or more audio files (or --live)")

    detector = VoiceDetector.from_pretrained(args.model or TASK_MODELS[args.task])
    results, failed = [], 0
    with out.progress("detecting", total=len(args.files), unit="files") as advance:
        for path in args.files:
            try:
                results.append(_one(detector, path, args))
            except CantataError as err:
                failed += 1
                out.error(str(err))
            advance(1)
    if out.json_mode:
        out.json(results)
    elif args.out is None:
        for result in results:
            out.show(_summary(result))
            out.show(_table(result))
    else:
        out.show(f"wrote {len(results)} result file(s) to {args.out}")
    return 2 if failed else 0


def _one(detector: Any, path: str, args: argparse.Namespace) -> dict[str, Any]:
    from cantata import audio
    from cantata.detect.formats import FORMATS, regions_dict, render
    from cantata.files import check_overwrite, write_text_atomic

    regions = detector.detect(path)
    stem = Path(path).stem
    if args.out is not None:
        write_text_atomic(args.out / f"{stem}.{FORMATS[args.format]}",
                          render(args.format, path, regions), overwrite=args.overwrite)
    if args.plot:
        from cantata.plot import plot_lanes

        png = (args.out or Path(".")) / f"{stem}.png"
        check_overwrite(png, args.overwrite)
        plot_lanes(audio.load(path, mono=True), regions, png, labels=detector.labels,
                   title=f"{Path(path).name} ({detector.name})")
    return regions_dict(path, regions)


def _summary(result: dict[str, Any]) -> str:
    totals: dict[str, float] = {}
    for r in result["regions"]:
        totals[r["label"]] = totals.get(r["label"], 0.0) + r["end"] - r["start"]
    found = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in totals.items())
    return f"[bold]{result['file']}[/]: {len(result['regions'])} regions ({found or 'none'})"


def _table(result: dict[str, Any]) -> Table:
    table = Table()
    for name in ("start", "end", "label", "confidence"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for r in result["regions"]:
        table.add_row(f"{r['start']:.2f}", f"{r['end']:.2f}", r["label"],
                      f"{r['confidence']:.2f}")
    return table
