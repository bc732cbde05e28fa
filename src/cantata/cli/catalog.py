"""``cantata catalog ls|show|stats|export``: what a scan put in the catalog."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from rich.table import Table

from cantata.cli.output import Output, plural
from cantata.cli.scan import DEFAULT_DB

#: ``cantata.catalog.db.SORT_COLUMNS`` (not imported here: the CLI starts without the catalog)
SORT_KEYS = ["id", "path", "duration_s", "loudness_lufs", "updated_at", "status", "quality",
             "vocal_s", "stems", "tags"]


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("catalog", parents=parents,
                       help="list, show, count, export, check and prune the catalog",
                       description="Read the catalog a scan filled.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", type=Path, default=Path(DEFAULT_DB),
                    help=f"the catalog file (default {DEFAULT_DB})")
    ls = actions.add_parser("ls", parents=[*parents, db], help="list tracks")
    ls.add_argument("--search", metavar="TEXT", help="only paths containing TEXT")
    ls.add_argument("--failed", action="store_true", help="only tracks that failed")
    ls.add_argument("--missing", action="store_true",
                    help="only tracks whose file is gone (left out otherwise)")
    ls.add_argument("--sort", default="path",
                    choices=SORT_KEYS,
                    help="quality: the grade of cantata catalog show (assess, defects "
                         "joined), A first (--desc: worst first); vocal_s: "
                         "seconds of singing; stems: how many; tags: how many present")
    ls.add_argument("--desc", action="store_true", help="sort descending")
    ls.add_argument("--limit", type=int, metavar="N", help="at most N tracks")
    ls.add_argument("--defective", action="store_true",
                    help="only tracks the defects analyzer found defective")
    ls.add_argument("--type", metavar="TYPE", dest="defect_type",
                    help="only tracks with defects of this type (click, dropout, clipping, "
                         "codec, noise_burst, discontinuity, dc_offset); implies --defective")
    ls.add_argument("--transcoded", action="store_true",
                    help="only tracks the assess analyzer found to be lossy files saved as "
                         "lossless")
    ls.add_argument("--clipped", action="store_true", help="only tracks with clipped runs")
    ls.add_argument("--too-loud", action="store_true",
                    help="only tracks louder than the streaming target (-14 LUFS) by more "
                         "than 1 LU")
    ls.add_argument("--tag", metavar="TAG", action="append", dest="tags", default=[],
                    help="only tracks the tag analyzer found TAG present in (repeat: all of "
                         "them)")
    ls.set_defaults(run=run_ls)
    show = actions.add_parser("show", parents=[*parents, db], help="everything about a track")
    show.add_argument("track", metavar="ID_OR_PATH", help="a track id or its file path")
    show.set_defaults(run=run_show)
    stats = actions.add_parser("stats", parents=[*parents, db], help="counts and totals")
    stats.set_defaults(run=run_stats)
    export = actions.add_parser("export", parents=[*parents, db],
                                help="write every track to JSON Lines or Parquet")
    export.add_argument("-o", "--out", type=Path, required=True, metavar="FILE",
                        help="FILE.jsonl or FILE.parquet")
    export.add_argument("--format", choices=["jsonl", "parquet"],
                        help="default: from the file's suffix")
    export.add_argument("--overwrite", action="store_true", help="replace an existing file")
    export.set_defaults(run=run_export)
    _add_report(actions, [*parents, db])
    check = actions.add_parser("check", parents=[*parents, db],
                               help="check the catalog file for damage (SQLite's integrity check)")
    check.set_defaults(run=run_check)
    prune = actions.add_parser("prune", parents=[*parents, db],
                               help="delete the missing tracks and their stem files")
    prune.add_argument("--files-dir", type=Path, metavar="DIR",
                       help="where the scan wrote stems (default <db folder>/<db name>-files/); "
                            "stem files elsewhere are left alone")
    prune.set_defaults(run=run_prune)


def _add_report(actions: Any, parents: list[argparse.ArgumentParser]) -> None:
    report = actions.add_parser("report", parents=parents,
                                help="the catalog's defects as one HTML file (and its PNG)")
    report.add_argument("-o", "--out", type=Path, required=True, metavar="FILE",
                        help="FILE.html; the histogram is also written beside it as FILE.png")
    report.add_argument("--overwrite", action="store_true", help="replace existing files")
    report.add_argument("--base-url", default="http://127.0.0.1:8000", metavar="URL",
                        help="the cantata serve address the track links point at "
                             "(default http://127.0.0.1:8000)")
    report.set_defaults(run=run_report)


def _open(args: argparse.Namespace) -> Any:
    from cantata.catalog import Catalog

    return Catalog(args.db, create=False)


def run_ls(args: argparse.Namespace, out: Output) -> int:
    _check_defect_type(args.defect_type)
    with _open(args) as catalog:
        _check_tags(catalog, args.tags)
        tracks = catalog.tracks(status="failed" if args.failed else None, search=args.search,
                                sort=args.sort, descending=args.desc, limit=args.limit,
                                with_results=True, missing=args.missing,
                                defective=args.defective, defect_type=args.defect_type,
                                quality=[name for name in ("transcoded", "clipped", "too_loud")
                                         if getattr(args, name)], tags=args.tags)
        hidden = 0 if args.missing else catalog.count(missing=True)
    if out.json_mode:
        out.json([t.to_dict() for t in tracks])
        return 0
    title = plural(len(tracks), f"{'missing ' if args.missing else ''}track")
    if hidden:
        title += f" ({hidden} missing, not listed: catalog ls --missing)"
    table = Table(title=title, title_justify="left")
    tagged = any("tag" in t.results for t in tracks)  # a tags column only when there are
    for name, justify in (("id", "right"), ("path", "left"), ("duration", "right"),
                          ("LUFS", "right"), ("vocal", "right"), ("stems", "left"),
                          ("defects", "left"), ("quality", "center"),
                          *([("tags", "left")] if tagged else []), ("status", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for t in tracks:
        detect = t.results.get("detect")
        separate = t.results.get("separate")
        table.add_row(str(t.id), shown(t.path), _duration(t.duration_s), _num(t.loudness_lufs),
                      _duration(detect.summary.get("vocal_s")) if detect else "",
                      ", ".join(separate.stems) if separate else "",
                      _defects(t), _grade(t), *([_tags(t)] if tagged else []), _status(t))
    out.show(table)
    return 0


def _check_defect_type(name: str | None) -> None:
    """``--type``: a defect type's name, or a one-line error listing them."""
    from cantata.data.labels import DEFECT_TYPES
    from cantata.errors import CantataError

    if name is not None and name not in DEFECT_TYPES:
        raise CantataError(f"--type: unknown defect type {name!r} (known: "
                           f"{', '.join(DEFECT_TYPES)})")


def _check_tags(catalog: Any, tags: list[str]) -> None:
    """``--tag``: tags some ``tag`` result scored, or a one-line error listing them."""
    from cantata.errors import CantataError

    if not tags:
        return
    known = catalog.tag_vocabulary()
    if not known:
        raise CantataError(f"--tag: {catalog.path} holds no tag results (run cantata scan "
                           f"--analyzers ...,tag=MODEL first)")
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise CantataError(f"--tag: no tag {unknown[0]!r} in the catalog's tag results "
                           f"(known: {', '.join(known)})")


def _tags(track: Any, most: int = 3) -> str:
    """The ``tags`` column: the first present tags (``piano, guitar, slow, +2``), or
    ``none``."""
    result = track.results.get("tag")
    if result is None:
        return ""
    present = list(result.summary.get("present") or [])
    more = [f"+{len(present) - most}"] if len(present) > most else []
    return ", ".join(present[:most] + more) or "none"


def _tag_rows(summary: dict[str, Any], most: int = 10) -> list[tuple[str, str]]:
    """``catalog show``'s rows of a ``tag`` result: the present tags, then the top scores."""
    ranked = summary.get("tags") or []
    present = [f"{t['tag']} {t['score']:.2f}" for t in ranked if t["present"]]
    top = [f"{t['tag']} {t['score']:.2f}" for t in ranked[:most]]
    if len(ranked) > most:
        top.append(f"+{len(ranked) - most} more (--json)")
    return [("present", ", ".join(present) or "none"), ("scores", ", ".join(top))]


def _defects(track: Any) -> str:
    """The ``defects`` column: events of the two first types found (``click 2, dropout 1,
    +3 types``), or ``none``."""
    result = track.results.get("defects")
    if result is None:
        return ""
    found = [f"{t} {n}" for t, n in (result.summary.get("types") or {}).items() if n]
    more = [f"+{len(found) - 2} types"] if len(found) > 2 else []
    return ", ".join(found[:2] + more) or "none"


def _grade(track: Any) -> str:
    """The ``quality`` column: the ``assess`` grade with the ``defects`` verdict joined, as
    ``cantata catalog show`` and the web page give it."""
    from cantata.catalog.quality import with_defects

    report = with_defects(track)
    return str(report.get("grade", "")) if report is not None else ""


def run_show(args: argparse.Namespace, out: Output) -> int:
    from cantata.catalog.quality import quality
    from cantata.errors import CantataError

    key = int(args.track) if args.track.isdigit() else args.track
    with _open(args) as catalog:
        track = catalog.track(key)
        report = quality(catalog, track) if track is not None else None
    if track is None:
        raise CantataError(f"{args.db}: no track {args.track!r}")
    if out.json_mode:
        out.json({**track.to_dict(), "quality": report})
        return 0
    facts = Table(title=f"track {track.id}", title_justify="left", show_header=False)
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    for key, value in track.to_dict().items():
        if key != "results" and value not in (None, ""):
            facts.add_row(key, str(value))
    out.show(facts)
    for name, result in track.results.items():
        about = Table(title=f"{name}: {result.model} ({result.model_version}, "
                            f"{result.created_at})", title_justify="left", show_header=False)
        about.add_column(style="bold")
        about.add_column(overflow="fold")
        rows = _tag_rows(result.summary) if name == "tag" else [
            (key, str(value)) for key, value in result.summary.items()]
        for key, value in [*rows, *result.stems.items()]:
            about.add_row(key, str(value))
        out.show(about)
        if result.regions:
            out.show(_regions_table(result.regions))
    if report is not None:
        out.show(f"[bold]quality {report['grade']}[/]: "
                 + ("; ".join(report["reasons"]) or "nothing wrong found"))
    return 0


def _regions_table(regions: Any) -> Table:
    table = Table()
    for column in ("start", "end", "label", "confidence"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for r in regions:
        table.add_row(f"{r.start_s:.2f}", f"{r.end_s:.2f}", r.label, f"{r.confidence:.2f}")
    return table


def run_stats(args: argparse.Namespace, out: Output) -> int:
    with _open(args) as catalog:
        stats = catalog.stats()
    if out.json_mode:
        out.json(stats)
        return 0
    table = Table(title=f"catalog {stats['catalog']}", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("tracks", f"{stats['tracks']} ({stats['ok']} ok, {stats['failed']} failed, "
                            f"{stats['missing']} missing)")
    table.add_row("audio", f"{stats['audio_hours']:.2f} hours")
    table.add_row("formats", ", ".join(f"{k} {v}" for k, v in stats["formats"].items()))
    for name, a in stats["analyzers"].items():
        table.add_row(name, f"{plural(a['tracks'], 'track')} ({', '.join(a['models'])})")
    for key, seconds in stats["region_seconds"].items():
        table.add_row(key, _duration(seconds))
    last = stats["last_scan"]
    if last:
        table.add_row("scans", f"{stats['scans']}; last {last['started_at']} {last['status']}: "
                               f"{last['analyzed']} analyzed, {last['skipped']} unchanged, "
                               f"{last['failed']} failed")
    for failure in stats["failures"]:
        table.add_row("failed", f"{failure['path']}: {failure['error']}")
    out.show(table)
    return 0


def run_export(args: argparse.Namespace, out: Output) -> int:
    from cantata.catalog import export

    with _open(args) as catalog:
        n = export(catalog, args.out, format=args.format, overwrite=args.overwrite)
    if out.json_mode:
        out.json({"file": str(args.out), "tracks": n})
    else:
        out.summary(f"{args.out}: {plural(n, 'track')}")
    return 0


def run_report(args: argparse.Namespace, out: Output) -> int:
    """The defects report: counts per type, worst tracks, histogram, links to the pages."""
    from cantata.catalog.report import HOW_TO, write_report

    with _open(args) as catalog:
        written = write_report(catalog, args.out, overwrite=args.overwrite,
                               base_url=args.base_url)
    html, png, stats = written.html, written.png, written.stats
    assessed = written.quality.analyzed if written.quality is not None else 0
    if out.json_mode:
        out.json({"file": str(html), "png": None if png is None else str(png),
                  "tracks": stats.tracks, "analyzed": stats.analyzed,
                  "defective": stats.defective})
    elif png is None:
        out.summary(f"{html}: the catalog holds no defects results (run {HOW_TO}); "
                    f"quality: {plural(assessed, 'track')} assessed")
    else:
        out.summary(f"{html} and {png.name}: {stats.defective} of "
                    f"{plural(stats.analyzed, 'track')} defective; quality: "
                    f"{plural(assessed, 'track')} assessed")
    return 0


def run_check(args: argparse.Namespace, out: Output) -> int:
    """SQLite's integrity check: exit 0 when the file is sound, 1 when it is damaged."""
    from cantata.catalog import integrity_check

    problems = integrity_check(args.db)
    sound = problems == ["ok"]
    if out.json_mode:
        out.json({"catalog": str(args.db), "ok": sound, "problems": [] if sound else problems})
    elif sound:
        out.show(f"{args.db}: ok")
    else:
        out.show("\n".join(problems))
    if not sound:
        out.error(f"{args.db}: damaged ({len(problems)} problem(s)); restore it from a "
                  "backup, or scan the library into a new catalog")
    return 0 if sound else 1


def run_prune(args: argparse.Namespace, out: Output) -> int:
    """Delete the missing tracks, and their stem files under the catalog's files folder."""
    from cantata.scan import default_files_dir
    from cantata.scan.prune import prune

    with _open(args) as catalog:
        pruned = prune(catalog, args.files_dir or default_files_dir(args.db))
    if out.json_mode:
        out.json({"catalog": str(args.db), "tracks": pruned.tracks, "files": pruned.files})
    else:
        out.show(f"{args.db}: deleted {pruned.tracks} missing track(s) and "
                 f"{pruned.files} stem file(s)")
    return 0


def shown(path: str) -> str:
    """A path as short as is unambiguous: relative to the current folder when inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _status(track: Any) -> str:
    status = track.status if track.ok else f"failed: {track.error}"
    return f"missing ({status})" if track.missing else status


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(float(seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}"
