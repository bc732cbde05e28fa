"""``cantata search QUERY_AUDIO``: query by example, the catalog's songs nearest a clip."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from cantata.cli.catalog import _duration, shown
from cantata.cli.output import Output, plural
from cantata.cli.scan import DEFAULT_DB
from cantata.errors import CantataError

MAX_RECORD_S = 60.0


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("search", parents=parents, help="find the songs a clip sounds like",
                       description="Query by example: embed a clip (3-10 s played, sung or "
                                   "hummed; a file or the microphone), find the nearest "
                                   "catalog segments and rank the songs by their best match, "
                                   "with where in the song and in the clip it is. Needs a "
                                   "catalog scanned with --analyzers embed.")
    p.add_argument("query", nargs="?", metavar="QUERY_AUDIO", help="the clip (an audio file)")
    p.add_argument("--start", type=float, default=0.0, metavar="SECONDS",
                   help="use the file from here on (default: its start)")
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="use this many seconds of the file (default: all of it)")
    p.add_argument("--record", type=float, metavar="SECONDS",
                   help="record the query from the microphone instead (needs sounddevice)")
    p.add_argument("--db", type=Path, default=Path(DEFAULT_DB),
                   help=f"the catalog file (default {DEFAULT_DB})")
    p.add_argument("-k", type=int, default=10, help="how many songs (default 10)")
    p.add_argument("--model", help="the embedder (default: the one the catalog's embeddings "
                                   "were made with)")
    p.add_argument("--hop", type=float, metavar="SECONDS",
                   help="seconds between the clip's segments (default a quarter segment)")
    p.add_argument("--index", choices=["auto", "exact", "hnsw"], default="auto",
                   help="exact search, or the approximate HNSW graph (auto: HNSW above "
                        "2M stored segments)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the saved index")
    p.add_argument("--variations", type=int, default=0, metavar="N",
                   help="also search N perturbed copies of the clip's embedding")
    p.add_argument("--sigma", type=float, default=0.5,
                   help="the perturbation's standard deviation (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the variations (default 0)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata.catalog import Catalog
    from cantata.embed.index import vary
    from cantata.embed.query import catalog_embedder, clip, search_clip

    if (args.query is None) == (args.record is None):
        raise CantataError("give the query as an audio file or --record SECONDS (one of them)")
    if args.k < 1:
        raise CantataError(f"-k must be at least 1, got {args.k}")
    if args.hop is not None and not args.hop > 0:
        raise CantataError(f"--hop must be positive, got {args.hop}")
    if args.variations < 0 or (args.variations and not args.sigma > 0):
        raise CantataError("--variations must be >= 0 and --sigma positive")
    if args.query is not None and not Path(args.query).is_file():
        raise CantataError(f"{args.query}: no such file")
    if args.start < 0 or (args.duration is not None and not args.duration > 0):
        raise CantataError("--start must be >= 0 and --duration positive")
    seconds: dict[str, float] = {}
    with Catalog(args.db, create=False) as catalog:
        source = _record(args.record, catalog_embedder(catalog, args.model)[0]) \
            if args.record is not None else clip(args.query, args.start, args.duration)
        found = search_clip(catalog, source, k=args.k, model=args.model, hop_s=args.hop,
                            kind=args.index, rebuild=args.rebuild, seconds=seconds)
        embedder, model_version, query, index, matches = (
            found.embedder, found.model_version, found.query, found.index, found.matches)
        variations = [{"variation": i + 1, "sigma": args.sigma, "seed": args.seed,
                       "matches": _ranked(index.search(v, k=args.k))}
                      for i, v in enumerate(vary(query, args.sigma, args.variations,
                                                 args.seed) if args.variations else [])]
    report = {
        "query": args.query if args.query is not None else "microphone",
        "duration_s": round(_duration_of(source), 3), "model": embedder.name,
        "model_version": model_version, "query_segments": len(query), "k": args.k,
        "index": {k: index.info.get(k) for k in ("kind", "metric", "vectors", "tracks", "path",
                                                 "rebuilt")},
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "matches": _ranked(matches)}
    if args.variations:
        report["variations"] = variations
    if out.json_mode:
        out.json(report)
    else:
        _show(out, report)
    return 0


def _record(seconds: float, embedder: Any) -> Any:
    """``seconds`` of mono audio from the default microphone, at the model's rate."""
    import numpy as np

    from cantata.types import Waveform

    if not 0 < seconds <= MAX_RECORD_S:
        raise CantataError(f"--record takes 0 to {MAX_RECORD_S:g} seconds, got {seconds:g}")
    try:
        import sounddevice
    except (ImportError, OSError) as err:  # OSError: the PortAudio library is missing
        raise CantataError("--record needs microphone support: pip install sounddevice (and "
                           "a sound input device); or give the query as an audio file") \
            from err
    rate = embedder.config.features.sample_rate
    try:
        sounddevice.query_devices(kind="input")
        samples = sounddevice.rec(round(seconds * rate), samplerate=rate, channels=1,
                                  dtype="float32")
        sounddevice.wait()
    except Exception as err:  # PortAudioError, or no input device (ValueError)
        raise CantataError(f"cannot record from the microphone ({err})") from err
    return Waveform(np.ascontiguousarray(samples.T), rate)


def _duration_of(source: Any) -> float:
    from cantata import audio
    from cantata.types import Waveform

    if isinstance(source, Waveform):
        return source.duration_s
    return audio.info(source).duration_s


def _ranked(matches: list[Any]) -> list[dict[str, Any]]:
    return [{"rank": i + 1, **m.to_dict()} for i, m in enumerate(matches)]


def _show(out: Output, report: dict[str, Any]) -> None:
    index = report["index"]
    out.show(f"[bold]{report['query']}[/] ({report['duration_s']:.1f} s, "
             f"{plural(report['query_segments'], 'segment')}) against "
             f"{plural(index['vectors'], 'segment')} of {plural(index['tracks'], 'song')} "
             f"({index['kind']} index"
             f"{', rebuilt' if index['rebuilt'] else ''}; {report['model_version']})")
    out.show(_table(report["matches"], "matches"))
    for v in report.get("variations", []):
        out.show(_table(v["matches"], f"variation {v['variation']} (sigma {v['sigma']:g})"))


def _table(matches: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in (("#", "right"), ("id", "right"), ("path", "left"),
                          ("score", "right"), ("distance", "right"), ("at", "right"),
                          ("query at", "right"), ("hits", "right")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for m in matches:
        table.add_row(str(m["rank"]), str(m["track_id"]), shown(m["path"]),
                      f"{m['score']:.3f}", f"{m['distance']:.3f}", _duration(m["track_s"]),
                      _duration(m["query_s"]), str(m["hits"]))
    return table
