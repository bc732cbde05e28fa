"""``cantata defects FILE_OR_DIR...``: clicks, dropouts, clipping and other defects, as events."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from rich.table import Table

from cantata.cli.inputs import (
    add_file_results,
    each_file,
    expand_inputs,
    names_apart,
    prepare_out_dir,
    write_output,
)
from cantata.cli.output import Output, plural
from cantata.data.labels import DEFECT_TYPES
from cantata.errors import CantataError

SUFFIXES = {"json": "json", "csv": "csv", "audacity": "txt"}  # format -> file suffix
CSV_HEADER = ["start", "end", "type", "confidence"]
#: a plotted event is drawn at least this share of the recording wide (a click stays visible)
MIN_PLOT_SHARE = 1 / 800


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("defects", parents=parents,
                       help="find clicks, dropouts, clipping and other defects in recordings",
                       description="Detect defects (clicks, dropouts, clipping, codec damage, "
                                   "noise bursts, discontinuities, DC offset) as timed events, "
                                   "and a verdict per recording.")
    add_file_results(p, SUFFIXES)
    p.add_argument("--types", nargs="+", metavar="TYPE",
                   help="report only these defect types, names or comma-separated, after the "
                        f"files (default all: {' '.join(DEFECT_TYPES)})")
    p.add_argument("--model", help="a shipped model name, 'debug', or a checkpoint path "
                                   "(default: the capability's default model)")
    p.add_argument("--plot", action="store_true",
                   help="also write a PNG per input: spectrogram with a lane per defect type "
                        "(DIR/<input stem>.png, or ./<input stem>.png without -o)")
    p.add_argument("--overwrite", action="store_true", help="replace existing result files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    files, types = _check_args(args)
    names = names_apart(files)
    with out.loading("the defect detector"):
        from cantata.defects.api import DefectDetector

        detector = DefectDetector.from_pretrained(args.model)
    _check_model_types(detector, types)
    done, failed = each_file(out, files, "detecting defects",
                             lambda path: _one(detector, path, names[path], types, args))
    _report(done, args, out)
    return 2 if failed else 0


def _check_args(args: argparse.Namespace) -> tuple[list[str], list[str] | None]:
    """The input files and types, after refusing what would fail only once the model is
    loaded."""
    types = parse_types(args.types)
    if not args.files:
        raise CantataError("give one or more audio files or folders")
    files = expand_inputs(args.files)
    if args.out is None and args.format == "audacity" and len(files) > 1:
        raise CantataError("--format audacity without -o takes one file (give -o DIR to "
                           "write one label file per input)")
    if args.out is not None:
        prepare_out_dir(args.out)
    return files, types


def parse_types(items: Sequence[str] | None) -> list[str] | None:
    """``--types`` as a list of known defect types (names, or comma-separated), or None.

    Raises:
        CantataError: an unknown type (the message lists the known ones).
    """
    if not items:
        return None
    names = [n.strip() for item in items for n in item.split(",") if n.strip()]
    for name in names:
        if name not in DEFECT_TYPES:
            raise CantataError(f"--types: unknown defect type {name!r} (known: "
                               f"{', '.join(DEFECT_TYPES)}; give --types after the files)")
    return list(dict.fromkeys(names))


def _check_model_types(detector: Any, types: list[str] | None) -> None:
    missing = [t for t in types or () if t not in detector.types]
    if missing:
        raise CantataError(f"the model {detector.name!r} does not detect "
                           f"{', '.join(missing)} (it detects {', '.join(detector.types)})")


class _Done(NamedTuple):
    """One input's result (the JSON object), its events as found, and its plot if any."""

    result: dict[str, Any]
    events: list[Any]
    plot: Path | None


def _one(detector: Any, path: str, name: str, types: list[str] | None,
         args: argparse.Namespace) -> _Done:
    report = detector.detect(path, types=types)
    result = result_dict(report, path)
    if args.out is not None:
        fmt = args.format or "json"
        text = render(fmt, [(path, result)])
        write_output(args.out / f"{name}.{SUFFIXES[fmt]}",
               lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=args.overwrite)
    png = _plot(path, report, types or list(detector.types),
                (args.out or Path(".")) / f"{name}.png",
                overwrite=args.overwrite) if args.plot else None
    return _Done(result, report.events, png)


def result_dict(report: Any, file: str) -> dict[str, Any]:
    """The issue's JSON object of one input, each event's ``start``/``end`` repeated as
    ``start_s``/``end_s`` (the catalog's names, as ``cantata detect`` gives both)."""
    result = report.to_dict(file)
    result["events"] = [{**e, "start_s": e["start"], "end_s": e["end"]}
                        for e in result["events"]]
    return result


def render(fmt: str, results: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """The text of ``results`` (file, result object) in ``fmt``: JSON (one object for one
    file, else a list), CSV (a leading ``file`` column for several files) or an Audacity
    label track (one file's)."""
    if fmt == "json":
        payload: Any = results[0][1] if len(results) == 1 else [r for _, r in results]
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(results)
    if len(results) != 1:
        raise CantataError(f"an Audacity label track holds one file's events, not "
                           f"{len(results)}")
    return "".join(f"{e['start']:.6f}\t{e['end']:.6f}\t{e['type']}\n"
                   for e in results[0][1]["events"])


def _csv(results: Sequence[tuple[str, dict[str, Any]]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    several = len(results) > 1
    writer.writerow(["file", *CSV_HEADER] if several else CSV_HEADER)
    for file, result in results:
        for e in result["events"]:
            row = [f"{e['start']:.6f}", f"{e['end']:.6f}", e["type"], f"{e['confidence']:.4f}"]
            writer.writerow([file, *row] if several else row)
    return buffer.getvalue()


def _plot(path: str, report: Any, lanes: list[str], png: Path, *, overwrite: bool) -> Path:
    from cantata import audio
    from cantata.plot import plot_lanes

    wav = audio.load(path, mono=True)
    regions = plot_regions(report.events, wav.duration_s)
    write_output(png, lambda tmp: plot_lanes(wav, regions, tmp, labels=lanes,
                                             title=f"{Path(path).name} ({report.model})"),
                 overwrite=overwrite)
    return png


def plot_regions(events: Sequence[Any], duration_s: float) -> list[Any]:
    """Events as lane regions, each at least :data:`MIN_PLOT_SHARE` of the recording wide
    so that a click of a millisecond shows on a plot of minutes."""
    from cantata.types import Segment

    least = duration_s * MIN_PLOT_SHARE
    out = []
    for e in events:
        start = max(0.0, min(e.start_s, (e.start_s + e.end_s - least) / 2))
        end = max(e.end_s, start + least)
        out.append(Segment(start, end, e.type, float(e.confidence)))
    return out


def _report(done: list[_Done], args: argparse.Namespace, out: Output) -> None:
    if out.json_mode or (args.out is None and args.format == "json"):
        out.json([d.result for d in done])
    elif args.out is not None:
        out.summary(f"wrote {plural(len(done), 'result file')} to {args.out}")
    elif args.format is not None:
        if done:
            sys.stdout.write(render(args.format, [(d.result["file"], d.result) for d in done]))
    else:
        for d in done:
            out.show(_summary(d.result))
            if d.result["events"]:
                out.show(_table(d.result))
    for d in done:
        if d.plot is not None:
            out.summary(f"plot: {d.plot}")


def _summary(result: dict[str, Any]) -> str:
    verdict = result["verdict"]
    found = ", ".join(f"{t} {n}" for t, n in verdict["types"].items() if n)
    state = "defective" if verdict["defective"] else "clean"
    return (f"[bold]{result['file']}[/]: {state} (score {verdict['score']:.2f}), "
            f"{plural(len(result['events']), 'event')}{f' ({found})' if found else ''}")


def _table(result: dict[str, Any]) -> Table:
    table = Table()
    for name in CSV_HEADER:
        table.add_column(name, justify="left" if name == "type" else "right")
    for e in result["events"]:
        table.add_row(f"{e['start']:.3f}", f"{e['end']:.3f}", e["type"],
                      f"{e['confidence']:.2f}")
    return table
