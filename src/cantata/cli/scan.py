"""``cantata scan LIBRARY_DIR``: analyze a whole library into the catalog, resumably."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cantata.cli.output import Output, plural

DEFAULT_DB = "catalog.db"
#: tag joins once a trained tagger ships (docs/tagging.md)
DEFAULT_ANALYZERS = "detect,separate,embed,defects,assess,tag"


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scan", parents=parents, help="analyze a music library into the catalog",
                       description="Find the audio files under LIBRARY_DIR (recursively), run "
                                   "the analyzers on every new or changed one and record the "
                                   "results in the catalog. Unchanged files are skipped, so a "
                                   "scan that was interrupted (even killed) finishes when run "
                                   "again. Unreadable files are recorded as failed with the "
                                   "reason and the scan goes on (exit status 2 if any failed).")
    p.add_argument("library", type=Path, metavar="LIBRARY_DIR",
                   help="the music library folder (or a single file)")
    p.add_argument("--db", type=Path, default=Path(DEFAULT_DB),
                   help=f"the catalog file, created if missing (default {DEFAULT_DB})")
    p.add_argument("--analyzers", default=DEFAULT_ANALYZERS,
                   help="comma-separated analyzers, each NAME or NAME=MODEL, e.g. "
                        "detect=singing-multilabel,separate (default "
                        f"{DEFAULT_ANALYZERS})")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="worker processes (Ray actors with --backend ray); default 1")
    p.add_argument("--backend", choices=["local", "inline", "ray"], default="local",
                   help="local: worker processes on this machine (default); inline: one "
                        "worker inside this process (no start-up, for debugging); ray: a "
                        "Ray cluster")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help="the Ray cluster to join (e.g. ray://head:10001 or auto); default: "
                        "start a local Ray instance")
    p.add_argument("--files-dir", type=Path, metavar="DIR",
                   help="where analyzers write files such as stems (default "
                        "<db folder>/<db name>-files/; shared storage for a cluster)")
    p.add_argument("--retry-failed", action="store_true",
                   help="also retry files that failed in an earlier scan and have not changed")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata.allocator import keep_window_buffers
    from cantata.analyzers import resolve
    from cantata.catalog import Catalog
    from cantata.errors import ConfigError
    from cantata.scan import scan
    from cantata.scan.plan import check_library

    if args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    check_library(args.library)  # before the catalog file is created
    specs = resolve(args.analyzers)
    if any(spec.name == "separate" for spec in specs):
        keep_window_buffers()  # as `cantata separate`; the workers inherit it
    with Catalog(args.db) as catalog, _ScanProgress(out) as progress:
        summary = scan(args.library, catalog, specs, backend=args.backend, jobs=args.jobs,
                       files_dir=args.files_dir, retry_failed=args.retry_failed,
                       ray_address=args.ray_address, on_start=progress.start,
                       on_outcome=progress.advance)
    for path, reason in summary.failed.items():
        out.error(f"{path}: {reason}")
    if out.json_mode:
        out.json({"catalog": str(args.db), **summary.to_dict()})
    elif not out.quiet:
        out.show(_report(summary, args.db))
    return 2 if summary.failed else 0


class _ScanProgress:
    """A progress bar in tracks with throughput (tracks per minute, multiples of real time)
    and the time left; shown on a terminal only."""

    def __init__(self, out: Output) -> None:
        enabled = out.err_console.is_terminal and not out.quiet
        self.bar = Progress(TextColumn("[bold]scanning"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("tracks  {task.fields[rate]}"), TimeRemainingColumn(),
                            console=out.err_console, transient=True, disable=not enabled)
        self.audio_s, self.t0, self.task = 0.0, time.perf_counter(), None

    def __enter__(self) -> _ScanProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)

    def start(self, n_jobs: int) -> None:
        self.t0 = time.perf_counter()
        self.task = self.bar.add_task("scan", total=n_jobs, rate="")

    def advance(self, outcome: Any) -> None:
        self.audio_s += outcome.facts.duration_s or 0.0
        elapsed = max(time.perf_counter() - self.t0, 1e-9)
        done = self.bar.tasks[0].completed + 1
        self.bar.update(self.task, advance=1, rate=f"{60 * done / elapsed:.1f}/min  "
                                                   f"{self.audio_s / elapsed:.1f}× real time")


def _report(summary: Any, db: Path) -> Table:
    per_hour = 3600 * summary.analyzed / summary.wall_s if summary.wall_s else 0.0
    table = Table(title=f"cantata scan → {db}", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("found", plural(summary.found, "audio file"))
    table.add_row("unchanged", f"{summary.skipped} (skipped)")
    table.add_row("analyzed", f"{summary.analyzed} ({summary.audio_s / 60:.1f} min of audio)")
    table.add_row("failed", _failed(summary))
    if summary.moved:
        table.add_row("moved", f"{summary.moved} (found by content; their results kept)")
    if summary.missing:
        table.add_row("missing", f"{summary.missing} gone (cantata catalog ls --missing; "
                                 f"cantata catalog prune deletes them)")
    if summary.analyzed or summary.failed:
        table.add_row("time", f"{summary.wall_s:.1f} s  ({per_hour:.0f} tracks/hour, "
                              f"{summary.audio_s / max(summary.wall_s, 1e-9):.1f}× real time)")
    else:  # an unchanged rescan: no rate to speak of
        table.add_row("time", f"{summary.wall_s:.1f} s  (nothing to do)")
    work = sum(summary.seconds.values())
    if work > 0:
        table.add_row("where the time went", ", ".join(
            f"{k} {100 * v / work:.0f} %" for k, v in
            sorted(summary.seconds.items(), key=lambda kv: -kv[1])))
    return table


def _failed(summary: Any) -> str:
    """This scan's failures, and the earlier ones it did not retry."""
    text = str(len(summary.failed))
    if summary.still_failed:
        text += (f" ({summary.still_failed} still failed from earlier scans, not retried: "
                 f"add --retry-failed to retry them)")
    return text
