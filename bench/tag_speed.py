"""Tagging speed end to end (decoding included): how many times real time.

Usage:
    python bench/tag_speed.py [FILE_OR_DIR ...] [--model NAME|CKPT] [--limit N] [--record]

Default input: the installed Debian Wesnoth soundtrack (``wesnoth-1.16-music``). Default
model: the default ``TaggerConfig`` (the MagnaTagATune top-50 heads, 3 s chunks, 96 mel
bands) with random weights — the architecture a shipped tagger would have; weights do not
change the speed. Threads: ``--threads`` (default: torch's). ``--record`` writes the table
into docs/tagging.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from _report import machine, markers, record
from cantata import audio
from cantata.data.sources._files import audio_files
from cantata.errors import CantataError
from cantata.models.registry import build
from cantata.models.tagger import TaggerConfig
from cantata.tag import Tagger

DOC = Path(__file__).resolve().parents[1] / "docs" / "tagging.md"
WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/core/music")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("inputs", nargs="*", type=Path, default=[WESNOTH])
    p.add_argument("--model", help="a tagger checkpoint or name (default: the default "
                                   "architecture, random weights)")
    p.add_argument("--limit", type=int, default=5, help="files at most (default 5)")
    p.add_argument("--threads", type=int, help="torch threads")
    p.add_argument("--record", action="store_true", help="write the table into docs/tagging.md")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        files = [f for item in args.inputs
                 for f in (audio_files(item) if item.is_dir() else [item])][:args.limit]
        if not files:
            raise CantataError(f"no audio files in {', '.join(map(str, args.inputs))}")
        tagger = Tagger.from_pretrained(args.model) if args.model else Tagger(
            build("tagger", TaggerConfig()), name="default architecture, random weights")
        seconds = sum(audio.info(f).duration_s for f in files)
        tagger.tag(files[0])  # warm up
        start = time.perf_counter()
        for f in files:
            tagger.tag(f)
        wall = time.perf_counter() - start
    except CantataError as err:
        print(f"tag_speed: {err}", file=sys.stderr)
        return 2
    params = sum(p.numel() for p in tagger.model.parameters())
    table = "\n".join([
        "| model | parameters | files | audio | wall | × real time | threads |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| {tagger.name} | {params / 1e6:.2f} M | {len(files)} | {seconds / 60:.1f} min | "
        f"{wall:.1f} s | {seconds / wall:.0f}× | {torch.get_num_threads()} |"])
    note = f"decoding, resampling to 16 kHz, log-mel and the network, file after file; {machine()}"
    print(table + "\n\n" + note)
    if args.record:
        begin, end = markers("tag-speed")
        record(DOC, "tag-speed", f"{begin}\n{table}\n\n{note}\n{end}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
