"""``cantata tag FILE_OR_DIR...``: genre, mood, instrument and voice tags of recordings."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from rich.table import Table

from cantata.cli.inputs import (
    add_file_results,
    each_file,
    expand_inputs,
    names_apart,
    prepare_out_dir,
    write_output,
)
from cantata.cli.output import Output, plural
from cantata.errors import CantataError

SUFFIXES = {"json": "json", "csv": "csv"}  # format -> file suffix
CSV_HEADER = ["tag", "score", "present"]
#: tags a table shows per file without --top
TABLE_TOP = 10


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tag", parents=parents,
                       help="tag recordings with genre, mood, instrument and voice tags",
                       description="Score every tag of the tagger for each recording (chunk "
                                   "scores pooled over the song), sorted by score; a tag is "
                                   "present when its score reaches its calibrated threshold.")
    add_file_results(p, SUFFIXES)
    p.add_argument("--top", type=_positive, metavar="K",
                   help="keep the K highest-scoring tags of each recording (default: all; "
                        f"a table shows {TABLE_TOP})")
    p.add_argument("--model", metavar="NAME|CKPT",
                   help="a shipped tagger's name, 'debug', or a checkpoint path (default: "
                        "the shipped tagger)")
    p.add_argument("--lyrics", action="store_true",
                   help="fuse each input's lyrics, read from the .txt beside it with the same "
                        "stem, into the tags with lyrics heads (inputs without one: audio "
                        "alone); needs a tagger with lyrics heads and pip install "
                        "'cantata[lyrics]'")
    p.add_argument("--overwrite", action="store_true", help="replace existing result files")
    p.set_defaults(run=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def run(args: argparse.Namespace, out: Output) -> int:
    if not args.files:
        raise CantataError("give one or more audio files or folders")
    files = expand_inputs(args.files)
    if args.out is not None:
        prepare_out_dir(args.out)
    names = names_apart(files)
    with out.loading("the tagger"):
        from cantata.tag.api import Tagger

        tagger = Tagger.from_pretrained(args.model)
    if args.lyrics:
        _check_lyrics(tagger, args.model)
    from cantata import audio

    with Prefetch(files, lambda path: audio.load(path, sample_rate=tagger.sample_rate,
                                                 mono=True)) as decoded:
        done, failed = each_file(out, files, "tagging",
                                 lambda path: _one(tagger, path, decoded(path), names[path],
                                                   args))
    _report(done, args, out)
    return 2 if failed else 0


class Prefetch:
    """Decodes the next file in a background thread while the current one is tagged
    (decoding and the network then share the cores); ``decoded(path)`` returns a file's
    audio, raising what its decoding raised."""

    def __init__(self, files: Sequence[str], load: Callable[[str], Any]) -> None:
        self.files, self.load = list(files), load
        self.next = {path: i + 1 for i, path in enumerate(self.files)}
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="cantata-decode")
        self.pending: dict[str, Future] = {}

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pool.shutdown(wait=True)

    def __call__(self, path: str) -> Any:
        future = self.pending.pop(path, None) or self.pool.submit(self.load, path)
        following = self.next.get(path, len(self.files))
        if following < len(self.files) and self.files[following] not in self.pending:
            self.pending[self.files[following]] = self.pool.submit(self.load,
                                                                   self.files[following])
        return future.result()


def _check_lyrics(tagger: Any, model: str | None) -> None:
    """``--lyrics``: a tagger with lyrics heads, and the text encoder loaded now."""
    from cantata.tag.lyrics import wordllama_encoder

    if tagger.lyrics_heads is None:
        raise CantataError(f"--lyrics: the tagger {model or tagger.name!r} has no lyrics heads "
                           f"(meta['lyrics_heads']); tag without --lyrics")
    if tagger.encoder is None:
        tagger.encoder = wordllama_encoder()


def _one(tagger: Any, path: str, wav: Any, name: str, args: argparse.Namespace
         ) -> dict[str, Any]:
    from cantata.tag.lyrics import lyrics_beside

    lyrics = lyrics_beside(path) if args.lyrics else None
    result = tagger.tag(wav, lyrics=lyrics).to_dict(path, top=args.top)
    if args.out is not None:
        fmt = args.format or "json"
        text = render(fmt, [result])
        write_output(args.out / f"{name}.{SUFFIXES[fmt]}",
                     lambda tmp: tmp.write_text(text, encoding="utf-8"),
                     overwrite=args.overwrite)
    return result


def render(fmt: str, results: Sequence[dict[str, Any]]) -> str:
    """JSON (one object for one file, else a list) or CSV (a leading ``file`` column for
    several files)."""
    if fmt == "json":
        payload: Any = results[0] if len(results) == 1 else list(results)
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    several = len(results) > 1
    writer.writerow(["file", *CSV_HEADER] if several else CSV_HEADER)
    for result in results:
        for t in result["tags"]:
            row = [t["tag"], f"{t['score']:.4f}", str(t["present"]).lower()]
            writer.writerow([result["file"], *row] if several else row)
    return buffer.getvalue()


def _report(done: list[dict[str, Any]], args: argparse.Namespace, out: Output) -> None:
    if out.json_mode or (args.out is None and args.format == "json"):
        out.json(done)
    elif args.out is not None:
        out.summary(f"wrote {plural(len(done), 'result file')} to {args.out}")
    elif args.format is not None:
        if done:
            sys.stdout.write(render(args.format, done))
    else:
        for result in done:
            present = [t["tag"] for t in result["tags"] if t["present"]]
            out.show(f"[bold]{result['file']}[/]: "
                     f"{', '.join(present) if present else 'no tag present'}")
            out.show(_table(result["tags"][:args.top or TABLE_TOP]))


def _table(tags: list[dict[str, Any]]) -> Table:
    table = Table()
    for name in CSV_HEADER:
        table.add_column(name, justify="left" if name == "tag" else "right")
    for t in tags:
        table.add_row(t["tag"], f"{t['score']:.2f}", "yes" if t["present"] else "")
    return table
