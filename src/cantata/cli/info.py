"""``cantata info FILE...``: duration, format, peak and loudness of audio files."""

from __future__ import annotations

import argparse
import logging
import math
from typing import Any

import numpy as np
from rich.table import Table

from cantata import audio
from cantata.cli.inputs import expand_inputs
from cantata.cli.output import Output
from cantata.errors import CantataError

log = logging.getLogger(__name__)

SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 16
SPARK_FLOOR_LUFS = -70.0  # the BS.1770 absolute gate
SPARK_RANGE_LU = 24.0  # the sparkline spans the loudest block down to this much below it


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("info", parents=parents, help="duration, format, peak and loudness",
                       description="Show duration, sample rate, channels, codec, sample peak "
                                   "and integrated loudness (EBU R128 / BS.1770) of audio files.")
    p.add_argument("files", nargs="+", metavar="FILE_OR_DIR",
                   help="audio files (any format), or folders (searched recursively for "
                        "audio files)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    rows: list[dict[str, Any]] = []
    sparks: list[str] = []
    failed = 0
    files = expand_inputs(args.files)
    total_s = sum(_header_duration(f) for f in files)
    with out.progress("measuring", total=total_s, unit="s") as advance:
        for path in files:
            try:
                stats = audio.measure(path, on_progress=advance)
            except CantataError as err:
                failed += 1
                rows.append({"file": path, "error": str(err)})
                if not out.json_mode:
                    out.error(str(err))
                continue
            rows.append(stats.to_dict())
            sparks.append(sparkline(stats.block_loudness_lufs))
            if stats.truncated:
                log.warning("%s", stats.truncation_warning())
    if out.json_mode:
        out.json(rows)
    else:
        good = [r for r in rows if "error" not in r]
        if good:
            out.show(_table(good, sparks))
    return 2 if failed else 0


def _header_duration(path: str) -> float:
    try:
        return audio.info(path).duration_s
    except CantataError:
        return 0.0


def _table(rows: list[dict[str, Any]], sparks: list[str]) -> Table:
    table = Table(title="cantata info", title_justify="left")
    table.add_column("file", overflow="fold", min_width=20)
    for name in ("duration", "rate Hz", "ch", "codec", "peak dBFS", "LUFS"):
        table.add_column(name, justify="left" if name == "codec" else "right", no_wrap=True)
    table.add_column("loudness", no_wrap=True, min_width=SPARK_WIDTH)
    for row, spark in zip(rows, sparks, strict=True):
        duration = _clock(row["duration_s"]) + (" truncated" if row["truncated"] else "")
        table.add_row(row["file"], duration, str(row["sample_rate"]),
                      str(row["channels"]), row["codec"], _level(row["peak_dbfs"]),
                      _level(row["loudness_lufs"]), spark)
    return table


def _clock(seconds: float) -> str:
    minutes, sec = divmod(seconds, 60)
    return f"{int(minutes)}:{sec:06.3f}"


def _level(value: float | None) -> str:
    return "-inf" if value is None else f"{value:.1f}"


def sparkline(block_lufs: np.ndarray, width: int = SPARK_WIDTH) -> str:
    """Loudness over time as a row of block characters, spanning the top 24 LU of the track."""
    if not len(block_lufs):
        return ""
    power = 10 ** (np.maximum(block_lufs, SPARK_FLOOR_LUFS) / 10)
    bins = np.array_split(power, min(width, len(power)))
    levels = np.array([10 * math.log10(b.mean()) for b in bins])
    floor = max(levels.max() - SPARK_RANGE_LU, SPARK_FLOOR_LUFS)
    scaled = (levels - floor) / max(levels.max() - floor, 1e-9)
    return "".join(SPARK[int(round(s * (len(SPARK) - 1)))] for s in np.clip(scaled, 0, 1))
