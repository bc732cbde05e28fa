"""``cantata models``: every shipped model with its capability, version, size, data and
measured quality (from the model cards)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from cantata.cli.output import Output


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", parents=parents, help="the shipped models",
                       description="List every shipped model: its capability, version "
                                   "(weights file and hash), size, training data, training "
                                   "time and measured quality, as its model card records them.")
    p.add_argument("--capability", help="only this capability's models")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata.capabilities import capability, describe, shipped_models

    if args.capability is not None:
        capability(args.capability)  # an unknown name is an error listing the known ones
    rows = [describe(model) for cap, model in shipped_models()
            if args.capability in (None, cap.name)]
    if out.json_mode:
        out.json(rows)
        return 0
    table = Table(title=f"{len(rows)} shipped models", title_justify="left")
    for column in ("name", "capability", "version", "size", "data", "quality"):
        table.add_column(column, overflow="fold")
    for row in rows:
        quality = "\n".join(f"{k}: {v}" for k, v in row["quality"].items())
        table.add_row(row["name"], row["capability"], row["version"],
                      f"{row['size_bytes'] / 1e6:.1f} MB", row["data"], quality)
    out.show(table)
    return 0
