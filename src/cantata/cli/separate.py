"""``cantata separate FILE_OR_DIR... [-o DIR]``: vocal and accompaniment stems of songs."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.table import Table

from cantata.cli.inputs import expand_inputs, names_apart
from cantata.cli.output import Output
from cantata.errors import CantataError

MASKS = ("irm", "psm", "cirm")
FORMATS = ("wav", "flac", "mp3", "ogg", "opus", "m4a")
#: where the stems go without ``-o`` (as Demucs's ``separated/``)
DEFAULT_OUT = Path("separated")
#: the ``{track}`` of audio read from stdin
STDIN_TRACK = "stdin"


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("separate", parents=parents, help="split songs into vocals and "
                       "accompaniment",
                       description="Separate songs into vocal and accompaniment stems: one "
                                   "folder per input, DIR/<input stem>/<stem>.<format> (DIR: "
                                   "-o, default separated/), at the "
                                   "input's sample rate and channel count. Files of any length "
                                   "are streamed in bounded memory.")
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR",
                   help="audio files, or folders (searched recursively for audio files); "
                        "'-' reads one file from stdin")
    p.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help="write DIR/<input stem>/<stem>.<format> (default: separated/); '-' "
                        "writes the one stem of --stems to stdout")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--stems", default=None,
                       help="comma-separated stems to write (default: vocals,accompaniment)")
    which.add_argument("--two-stems", metavar="STEM",
                       help="as in Demucs: STEM and the rest (vocals or accompaniment: the "
                            "model's two stems)")
    p.add_argument("--format", choices=FORMATS, default="wav",
                   help="wav or flac (lossless), or mp3, ogg (Vorbis), opus, m4a (AAC)")
    p.add_argument("--bitrate", metavar="RATE",
                   help="of mp3, ogg, opus, m4a, e.g. 192k (default: mp3 320k, ogg 256k, "
                        "opus 192k, m4a 256k)")
    p.add_argument("--filename", default="{track}/{stem}.{ext}", metavar="TEMPLATE",
                   help="output names under DIR, from the keys {track} (input name without "
                        "suffix), {trackext} (its suffix), {stem}, {ext} (default "
                        "{track}/{stem}.{ext})")
    p.add_argument("--bits", choices=["16", "24", "32f"], default="16",
                   help="sample format of wav and flac: 16- or 24-bit integer, or 32-bit "
                        "float (wav only)")
    p.add_argument("--clip-mode", choices=["rescale", "clamp"], default="rescale",
                   help="stems that would exceed full scale in an integer or lossy format: "
                        "rescale all of a song's stems by one gain to fit (the default, as in "
                        "Demucs), or clamp (clip) them; a warning says which, with the input's "
                        "peak (--bits 32f keeps the level)")
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

    keep_window_buffers()  # window after window reuses its buffers (docs/separation.md)
    _check_options(args)
    with _stdin_inputs(args.inputs) as (inputs, tracks):
        files = [Path(f) for f in expand_inputs(inputs)]
        if str(args.out) != "-":
            return _separate(args, out, files, args.out, tracks)
        if len(files) != 1:
            raise CantataError(f"-o - takes one input file, got {len(files)}")
        with tempfile.TemporaryDirectory(prefix="cantata-") as folder:
            status = _separate(args, out, files, Path(folder), tracks)
            if status == 0:
                (stem_file,) = (p for p in Path(folder).rglob("*") if p.is_file())
                with stem_file.open("rb") as stem:
                    sys.stdout.flush()
                    shutil.copyfileobj(stem, sys.stdout.buffer)
                    sys.stdout.buffer.flush()
            return status


def _check_options(args: argparse.Namespace) -> None:
    """Refuse bad options before any work (format and bits, template, bitrate, stdout)."""
    from cantata.audio.save import parse_bitrate
    from cantata.separate.api import check_filename, output_subtype

    output_subtype(args.format, args.bits)  # flac + 32f fails here, before any work
    check_filename(args.filename)
    if args.bitrate is not None:
        parse_bitrate(args.bitrate)
    if str(args.out) == "-":
        if args.stems is None or "," in args.stems:
            raise CantataError("-o - writes one stem to stdout: choose it with --stems, "
                               "e.g. --stems vocals")
        if args.json:
            raise CantataError("-o - writes audio to stdout: --json cannot print there too")


def _separate(args: argparse.Namespace, out: Output, files: list[Path], out_dir: Path,
              tracks: dict[Path, str]) -> int:
    """Separate ``files`` into ``out_dir``; print the results unless they go to stdout."""
    from cantata.separate.api import Separator

    with out.loading("the separator"):
        separator = Separator.from_pretrained(args.model, mask=args.mask, wiener=args.wiener,
                                              gate=args.gate_model if args.gate else None)
    stems = _stems(args, separator.stems)
    names = {**names_apart(files), **tracks}
    plans = {path: separator.output_paths(path, out_dir, stems=stems, format=args.format,
                                          filename=args.filename, track=names[path])
             for path in files}
    _check_distinct(plans)
    results, failed = _write_all(args, out, separator, plans, out_dir, names)
    for result in results:
        result["file"] = "-" if result["file"] in map(str, tracks) else result["file"]
    if out.json_mode:
        out.json(results)
    elif str(args.out) != "-":
        good = [r for r in results if "error" not in r]
        if good:
            out.summary(_table(good, gated=args.gate))
    return 2 if failed else 0


def _write_all(args: argparse.Namespace, out: Output, separator: Any,
               plans: dict[Path, dict[str, Path]], out_dir: Path,
               names: dict[Path, str]) -> tuple[list[dict[str, Any]], int]:
    """Separate every planned file; (one result per file, how many failed)."""
    results: list[dict[str, Any]] = []
    failed = 0
    with out.progress("separating", total=sum(_duration(f) for f in plans),
                      unit="s") as advance:
        for path, dests in plans.items():
            try:
                written = separator.separate_to_files(
                    path, out_dir, stems=list(dests), format=args.format, bits=args.bits,
                    bitrate=args.bitrate, filename=args.filename, track=names[path],
                    overwrite=args.overwrite, on_progress=advance, clip_mode=args.clip_mode)
            except CantataError as err:
                failed += 1
                results.append({"file": str(path), "error": str(err)})
                out.error(str(err))
                continue
            results.append({"file": str(path), "stems": {k: str(v) for k, v in written.items()},
                            "duration_s": round(written.duration_s, 3),
                            "skipped_s": round(written.skipped_s, 3)})
    return results, failed


def _check_distinct(plans: dict[Path, dict[str, Path]]) -> None:
    """Two stems planned to one file (a template without {track} or {stem}): refuse
    before any work."""
    seen: dict[Path, str] = {}
    for path, dests in plans.items():
        for stem, dest in dests.items():
            if dest in seen:
                raise CantataError(f"{seen[dest]} and {path} ({stem}) would both write to "
                                   f"{dest}; put {{track}} and {{stem}} in --filename")
            seen[dest] = f"{path} ({stem})"


def _stems(args: argparse.Namespace, model_stems: tuple[str, ...]) -> list[str] | None:
    """The stems asked for by --stems or --two-stems (None: all the model's)."""
    if args.two_stems is None:
        return [s.strip() for s in args.stems.split(",")] if args.stems else None
    if args.two_stems not in model_stems or len(model_stems) != 2:
        raise CantataError(f"--two-stems {args.two_stems}: the model {args.model} separates "
                           f"{' and '.join(model_stems)}; name one of them")
    return list(model_stems)


@contextmanager
def _stdin_inputs(inputs: list[str]) -> Iterator[tuple[list[str], dict[Path, str]]]:
    """``inputs`` with ``-`` replaced by a temporary copy of stdin, and that copy's
    ``{track}`` (:data:`STDIN_TRACK`)."""
    if "-" not in inputs:
        yield inputs, {}
        return
    if len(inputs) != 1:
        raise CantataError("'-' (stdin) must be the only input")
    with tempfile.TemporaryDirectory(prefix="cantata-") as folder:
        copy = Path(folder) / STDIN_TRACK
        with copy.open("wb") as handle:
            shutil.copyfileobj(sys.stdin.buffer, handle)
        yield [str(copy)], {copy: STDIN_TRACK}


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
