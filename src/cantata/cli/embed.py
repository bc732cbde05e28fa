"""``cantata embed FILE...``: each file's segment embeddings, as a summary or .npz files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cantata.cli.inputs import expand_inputs, names_apart, prepare_out_dir, write_problem
from cantata.cli.output import Output, plural
from cantata.errors import CantataError

DEFAULT_MODEL = "embedder"


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("embed", parents=parents, help="embed songs segment by segment",
                       description="Embed every segment of each file (segments as long as "
                                   "the model's, overlapping by half unless --hop says "
                                   "otherwise). Prints a summary per file; with -o writes "
                                   "DIR/<input stem>.npz holding starts_s (n,) and vectors "
                                   "(n, dim) float32.")
    p.add_argument("files", nargs="+", metavar="FILE_OR_DIR",
                   help="audio files, or folders (searched recursively for audio files)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="write DIR/<input stem>.npz per input (inputs named alike: "
                        "<stem>-2, <stem>-3, ... in input order)")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"a shipped embedder, debug, or a checkpoint (default {DEFAULT_MODEL})")
    p.add_argument("--hop", type=float, metavar="SECONDS",
                   help="seconds between segment starts (default half a segment)")
    p.add_argument("--overwrite", action="store_true", help="replace existing .npz files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    if args.hop is not None and not args.hop > 0:
        raise CantataError(f"--hop must be positive, got {args.hop}")
    files = expand_inputs(args.files)
    names = names_apart(files)
    if args.out is not None:
        prepare_out_dir(args.out)
    with out.loading("the embedder"):
        from cantata.embed.api import Embedder

        embedder = Embedder.from_pretrained(args.model)
    hop_s = args.hop or embedder.segment_s / 2
    results, failed = [], 0
    with out.progress("embedding", total=len(files), unit="files") as advance:
        for path in files:
            dest = args.out / f"{names[path]}.npz" if args.out is not None else None
            try:
                results.append(_one(embedder, path, dest, hop_s, args.overwrite))
            except CantataError as err:
                failed += 1
                out.error(str(err))
                results.append({"file": path, "error": str(err)})
            advance(1)
    _report(results, out)
    return 2 if failed else 0


def _report(results: list[dict[str, Any]], out: Output) -> None:
    if out.json_mode:
        out.json(results)
        return
    for r in results:  # with -o a summary of the files written (none with -q), else the result
        if "error" not in r:
            (out.summary if r["npz"] else out.show)(
                f"[bold]{r['file']}[/]: {plural(r['segments'], 'segment')} of "
                f"{r['segment_s']:g} s every {r['hop_s']:g} s, dim {r['dim']} "
                f"({r['model_version']})" + (f" → {r['npz']}" if r["npz"] else ""))


def _one(embedder: Any, path: str, dest: Path | None, hop_s: float,
         overwrite: bool) -> dict[str, Any]:
    from cantata import audio
    from cantata.files import check_overwrite

    if dest is not None:
        check_overwrite(dest, overwrite)
    duration_s = audio.info(path).duration_s
    found = embedder.embed_segments(path, hop_s=hop_s)
    if dest is not None:
        try:
            write_npz(dest, found, hop_s=hop_s)
        except OSError as err:
            raise write_problem(dest, err) from err
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
