"""``cantata embed FILE...``: each file's segment embeddings, as a summary or .npz files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cantata.cli.output import Output
from cantata.errors import CantataError

DEFAULT_MODEL = "embedder"


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("embed", parents=parents, help="embed songs segment by segment",
                       description="Embed every segment of each file (segments as long as "
                                   "the model's, overlapping by half unless --hop says "
                                   "otherwise). Prints a summary per file; with -o writes "
                                   "DIR/<input stem>.npz holding starts_s (n,) and vectors "
                                   "(n, dim) float32.")
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="write DIR/<input stem>.npz per input")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"a shipped embedder, debug, or a checkpoint (default {DEFAULT_MODEL})")
    p.add_argument("--hop", type=float, metavar="SECONDS",
                   help="seconds between segment starts (default half a segment)")
    p.add_argument("--overwrite", action="store_true", help="replace existing .npz files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata.embed.api import Embedder

    if args.hop is not None and not args.hop > 0:
        raise CantataError(f"--hop must be positive, got {args.hop}")
    embedder = Embedder.from_pretrained(args.model)
    hop_s = args.hop or embedder.segment_s / 2
    results, failed = [], 0
    with out.progress("embedding", total=len(args.files), unit="files") as advance:
        for path in args.files:
            try:
                results.append(_one(embedder, path, hop_s, args))
            except CantataError as err:
                failed += 1
                out.error(str(err))
                results.append({"file": path, "error": str(err)})
            advance(1)
    if out.json_mode:
        out.json(results)
    else:
        for r in results:
            if "error" not in r:
                out.show(f"[bold]{r['file']}[/]: {r['segments']} segments of "
                         f"{r['segment_s']:g} s every {r['hop_s']:g} s, dim {r['dim']} "
                         f"({r['model_version']})" + (f" → {r['npz']}" if r["npz"] else ""))
    return 2 if failed else 0


def _one(embedder: Any, path: str, hop_s: float, args: argparse.Namespace) -> dict[str, Any]:
    from cantata import audio
    from cantata.files import check_overwrite

    dest = args.out / f"{Path(path).stem}.npz" if args.out is not None else None
    if dest is not None:
        check_overwrite(dest, args.overwrite)
    duration_s = audio.info(path).duration_s
    found = embedder.embed_segments(path, hop_s=hop_s)
    if dest is not None:
        write_npz(dest, found, hop_s=hop_s)
    return {"file": path, "model": embedder.name, "model_version": found.model_version,
            "duration_s": round(duration_s, 3), "segments": len(found), "dim": found.dim,
            "segment_s": found.segment_s, "hop_s": hop_s,
            "npz": str(dest) if dest is not None else None}


def write_npz(dest: Path, found: Any, *, hop_s: float) -> Path:
    """``starts_s``, ``vectors``, ``segment_s``, ``hop_s`` and ``model_version`` in one
    .npz, written to a temporary name and renamed."""
    import numpy as np

    from cantata.files import atomic_output

    with atomic_output(dest, overwrite=True) as tmp, tmp.open("wb") as f:
        np.savez(f, starts_s=found.starts_s, vectors=found.vectors,
                 segment_s=np.float64(found.segment_s), hop_s=np.float64(hop_s),
                 model_version=np.str_(found.model_version))
    return dest
