"""``cantata assess FILE_OR_DIR...``: one quality report per recording (lossy history,
loudness, signal problems, duplicates) with a grade and its reasons."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

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


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("assess", parents=parents,
                       help="grade recordings: lossy history, loudness, clipping, duplicates",
                       description="Assess each recording: its effective bandwidth and lossy "
                                   "history (a transcoded MP3, an upsampled file, padded bit "
                                   "depth), loudness, loudness range and true peak against a "
                                   "target, clipping, DC offset, stereo image, silence at the "
                                   "ends, truncation and duplicates among the inputs, with a "
                                   "grade A-F and its reasons.")
    p.add_argument("files", nargs="*", metavar="FILE_OR_DIR",
                   help="audio files, or folders (searched recursively for audio files)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="write one JSON report per input: DIR/<input stem>.json (inputs named "
                        "alike: <stem>-2, <stem>-3, ... in input order)")
    p.add_argument("--target", default="streaming", metavar="ebu|streaming|LUFS",
                   help="the loudness target the advice is about: ebu (EBU R128, -23 LUFS), "
                        "streaming (-14 LUFS, default) or a loudness such as -16; every "
                        "report lists both named targets")
    p.add_argument("--plot", action="store_true",
                   help="also write a PNG per input: the spectrum with the detected bandwidth "
                        "and the loudness over time (DIR/<input stem>.png, or "
                        "./<input stem>.png without -o)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata.assess import Assessor
    from cantata.assess.duplicates import identical, near_by_curves

    if not args.files:
        raise CantataError("give one or more audio files or folders")
    assessor = Assessor(target=args.target)
    files = expand_inputs(args.files)
    if args.out is not None:
        prepare_out_dir(args.out)
    names = names_apart(files)
    assessed, failed = each_file(out, files, "assessing",
                                 lambda path: (path, assessor.assess(path)))
    reports = dict(assessed)
    same = identical({p: r.pcm_hash for p, r in reports.items()})
    near = near_by_curves({p: r.loudness.momentary_lufs for p, r in reports.items()},
                          {p: r.duration_s for p, r in reports.items()}, exclude=same)
    results = []
    for path, report in reports.items():
        dups = [{"file": o, "kind": "identical", "similarity": 1.0} for o in same[path]]
        dups += [{"file": o, "kind": "near", "similarity": s} for o, s in near[path]]
        report = report.with_context(duplicates=dups)
        result = report.to_dict(path)
        results.append(result)
        try:
            _write(path, names[path], report, result, args)
        except CantataError as err:
            failed += 1
            out.error(str(err))
    _show(results, args, out)
    return 2 if failed else 0


def _write(path: str, name: str, report: Any, result: dict[str, Any],
           args: argparse.Namespace) -> None:
    if args.out is not None:
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        write_output(args.out / f"{name}.json",
                     lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=args.overwrite)
    if args.plot:
        from cantata.assess.plot import plot_report

        png = (args.out or Path(".")) / f"{name}.png"
        write_output(png, lambda tmp: plot_report(report, tmp, title=Path(path).name),
                     overwrite=args.overwrite)


def _show(results: list[dict[str, Any]], args: argparse.Namespace, out: Output) -> None:
    if out.json_mode:
        out.json(results)
        return
    if args.out is not None:
        out.summary(f"wrote {plural(len(results), 'report')} to {args.out}")
        return
    table = Table(title=plural(len(results), "recording"), title_justify="left")
    for name, justify in (("grade", "center"), ("file", "left"), ("bandwidth", "right"),
                          ("lossy", "left"), ("LUFS", "right"), ("LRA", "right"),
                          ("dBTP", "right"), ("clipped", "right"), ("reasons", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in results:
        loud, lossy = r["loudness"], r["lossy"]
        history = (f"{lossy['codec']} {lossy['bitrate_class'] or ''}".strip()
                   if lossy["transcoded"] else "upsampled" if r["upsampled"] else "")
        table.add_row(r["grade"], r["file"], f"{r['bandwidth_hz'] / 1000:.1f} kHz", history,
                      _num(loud["integrated_lufs"]), _num(loud["range_lu"]),
                      _num(loud["true_peak_dbtp"]),
                      str(r["clipping"]["runs"]) if r["clipping"]["runs"] else "",
                      "; ".join(r["reasons"]) or "—")
    out.show(table)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}"
