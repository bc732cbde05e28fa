"""``cantata continue SEED_AUDIO``: more music after a seed, found in the catalog."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from cantata.cli.catalog import shown
from cantata.cli.output import Output
from cantata.cli.scan import DEFAULT_DB


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("continue", parents=parents, help="continue a piece with catalog music",
                       description="Embed the seed's consecutive segments, let the continuer "
                                   "predict the next embeddings, and render each from the "
                                   "catalog segment nearest to it, joined at onsets with "
                                   "crossfades. The catalog needs embeddings (cantata scan "
                                   "--analyzers embed).")
    p.add_argument("seed", type=Path, metavar="SEED_AUDIO", help="the music to continue")
    p.add_argument("--seconds", type=float, default=30.0, help="length of the continuation")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT.wav",
                   help="the result (.wav or .flac): the seed, then the continuation")
    p.add_argument("--db", type=Path, default=Path(DEFAULT_DB))
    p.add_argument("--model", default="embedder", help="the embedder (name or checkpoint)")
    p.add_argument("--continuer", default="continuer", help="the continuer (name or checkpoint)")
    p.add_argument("--noise", type=float, default=0.0,
                   help="noise added to each predicted embedding, for variety (e.g. 0.3; "
                        "predictions are made from what was picked, so it does not drift)")
    p.add_argument("--seed-rng", type=int, default=0, help="seed of that noise")
    p.add_argument("--switch-cost", type=float, default=1.0,
                   help="how much farther (in embedding units) the next segment of the "
                        "current catalog song may be than the nearest segment and still play "
                        "on: 0 picks the nearest every time, larger values keep songs going "
                        "(default 1)")
    p.add_argument("--only-new", action="store_true", help="leave the seed out of the output")
    p.add_argument("--png", type=Path, help="also write a spectrogram of the result here")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata import audio
    from cantata.catalog import Catalog
    from cantata.embed.api import Embedder
    from cantata.embed.generate import continue_audio, load_continuer, load_pool
    from cantata.errors import ConfigError
    from cantata.files import check_overwrite

    if args.seconds <= 0:
        raise ConfigError(f"--seconds must be positive, got {args.seconds}")
    for dest in (args.out, args.png):
        if dest is not None:
            check_overwrite(dest, args.overwrite)
    embedder = Embedder.from_pretrained(args.model)
    continuer = load_continuer(args.continuer, embedder)
    with Catalog(args.db, create=False) as catalog:
        pool = load_pool(catalog, embedder.model_version, embedder.segment_s)
    result = continue_audio(str(args.seed), pool=pool, embedder=embedder, continuer=continuer,
                            seconds=args.seconds, noise=args.noise, rng=args.seed_rng,
                            switch_cost=args.switch_cost,
                            include_seed=not args.only_new)
    audio.save(args.out, result.audio, overwrite=args.overwrite)
    if args.png is not None:
        _plot(result, embedder.segment_s, args.png)
    pieces = [{"start_s": round(result.seed_s + i * embedder.segment_s, 3), "track": p.path,
               "track_id": p.track_id, "from_s": round(p.start_s, 3),
               "distance": round(p.distance, 4)} for i, p in enumerate(result.pieces)]
    if out.json_mode:
        out.json({"file": str(args.out), "duration_s": round(result.audio.duration_s, 3),
                  "seed_s": round(result.seed_s, 3), "pieces": pieces})
    else:
        table = Table(title=f"{args.out}: {result.seed_s:.1f} s of seed, then "
                            f"{len(pieces)} pieces", title_justify="left")
        for column in ("at", "from track", "from", "distance"):
            table.add_column(column, justify="left" if column == "from track" else "right",
                             overflow="fold")
        for piece in pieces:
            table.add_row(f"{piece['start_s']:.1f} s", shown(piece["track"]),
                          f"{piece['from_s']:.1f} s",
                          f"{piece['distance']:.2f}")
        out.show(table)
    return 0


def _plot(result: Any, segment_s: float, path: Path) -> None:
    from cantata.plot import plot_lanes
    from cantata.types import Segment

    lanes = [Segment(0.0, result.seed_s, "seed")] if result.seed_s > 0 else []
    for i, _ in enumerate(result.pieces):  # one box per piece, a hair apart
        start = result.seed_s + i * segment_s
        end = min(start + segment_s, result.audio.duration_s) - 0.05
        if end > start:
            lanes.append(Segment(start, end, "continuation"))
    plot_lanes(result.audio, lanes, path, labels=["seed", "continuation"],
               title="cantata continue: the seed, then one catalog piece per box")
