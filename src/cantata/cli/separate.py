"""``cantata separate FILE_OR_DIR... -o DIR``: vocal and accompaniment stems of songs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from cantata.cli.output import Output
from cantata.errors import CantataError

MASKS = ("irm", "psm", "cirm")


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("separate", parents=parents, help="split songs into vocals and "
                       "accompaniment",
                       description="Separate songs into vocal and accompaniment stems: one "
                                   "folder per input, DIR/<input stem>/<stem>.<format>, at the "
                                   "input's sample rate and channel count. Files of any length "
                                   "are streamed in bounded memory.")
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR",
                   help="audio files, or folders (searched recursively for audio files)")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="DIR",
                   help="write DIR/<input stem>/<stem>.<format>")
    p.add_argument("--stems", default=None,
                   help="comma-separated stems to write (default: vocals,accompaniment)")
    p.add_argument("--format", choices=["wav", "flac"], default="wav")
    p.add_argument("--bits", choices=["16", "24", "32f"], default="16",
                   help="sample format: 16- or 24-bit integer, or 32-bit float (wav only)")
    p.add_argument("--mask", choices=list(MASKS),
                   help="the masks applied: the model's own by default; irm = real masks in "
                        "[0, 1] from any model (keeps the mix's phase); psm or cirm only for a "
                        "model that predicts them (the debug model predicts what you ask)")
    p.add_argument("--wiener", type=int, default=0, metavar="N",
                   help="refine the masked stems by N iterations of multichannel Wiener "
                        "filtering (uses where the voice sits in the stereo field; 0: off, "
                        "the default; 1 is usual)")
    p.add_argument("--model", default="separator",
                   help="a shipped model name (separator, debug) or a checkpoint path")
    p.add_argument("--gate", action="store_true",
                   help="run the singing detector first and skip the separator where nobody "
                        "sings (vocals silent, accompaniment = the mix)")
    p.add_argument("--gate-model", default="singing", metavar="NAME",
                   help="the detector used by --gate (default singing)")
    p.add_argument("--overwrite", action="store_true", help="replace existing stem files")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from cantata.allocator import keep_window_buffers
    from cantata.separate.api import Separator, output_subtype

    keep_window_buffers()  # window after window reuses its buffers (docs/separation.md)
    files = expand_inputs(args.inputs)
    stems = [s.strip() for s in args.stems.split(",")] if args.stems else None
    output_subtype(args.format, args.bits)  # flac + 32f fails here, before any work
    _check_unique_stems(files)
    separator = Separator.from_pretrained(args.model, mask=args.mask, wiener=args.wiener,
                                          gate=args.gate_model if args.gate else None)
    plans = {path: separator.output_paths(path, args.out, stems=stems, format=args.format)
             for path in files}
    results: list[dict[str, Any]] = []
    failed = 0
    with out.progress("separating", total=sum(_duration(f) for f in files),
                      unit="s") as advance:
        for path in files:
            try:
                written = separator.separate_to_files(
                    path, args.out, stems=list(plans[path]), format=args.format,
                    bits=args.bits, overwrite=args.overwrite, on_progress=advance)
            except CantataError as err:
                failed += 1
                results.append({"file": str(path), "error": str(err)})
                out.error(str(err))
                continue
            results.append({"file": str(path), "stems": {k: str(v) for k, v in written.items()},
                            "duration_s": round(written.duration_s, 3),
                            "skipped_s": round(written.skipped_s, 3)})
    if out.json_mode:
        out.json(results)
    else:
        good = [r for r in results if "error" not in r]
        if good:
            out.show(_table(good, gated=args.gate))
    return 2 if failed else 0


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files as given; folders replaced by their audio files (recursively, sorted).

    Raises:
        CantataError: a folder holds no audio file.
    """
    from cantata.data.sources._files import audio_files

    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = audio_files(item)
            if not found:
                raise CantataError(f"{item}: no audio files in this folder")
            files += found
        else:
            files.append(item)  # a missing or bad file is reported when its turn comes
    return list(dict.fromkeys(files))


def _check_unique_stems(files: list[Path]) -> None:
    """Two inputs named alike would write into one folder: refuse before any work."""
    seen: dict[str, Path] = {}
    for path in files:
        if path.stem in seen:
            raise CantataError(f"{seen[path.stem]} and {path} would both write to "
                               f"<DIR>/{path.stem}/; rename one or separate them in two runs")
        seen[path.stem] = path


def _duration(path: Path) -> float:
    from cantata import audio

    try:
        return audio.info(path).duration_s
    except CantataError:
        return 0.0


def _table(results: list[dict[str, Any]], *, gated: bool) -> Table:
    table = Table(title="cantata separate", title_justify="left")
    table.add_column("file", overflow="fold")
    table.add_column("duration", justify="right", no_wrap=True)
    if gated:
        table.add_column("skipped", justify="right", no_wrap=True)
    table.add_column("stems", overflow="fold")
    for r in results:
        row = [r["file"], f"{r['duration_s']:.1f} s"]
        if gated:
            row.append(f"{r['skipped_s']:.1f} s")
        table.add_row(*row, "\n".join(r["stems"].values()))
    return table
