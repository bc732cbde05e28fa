"""``cantata lyrics align SONG LYRICS.txt``: a time for every line and word of the lyrics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NamedTuple

from cantata.cli.inputs import (
    each_file,
    expand_inputs,
    names_apart,
    prepare_out_dir,
    write_output,
)
from cantata.cli.output import Output, plural
from cantata.errors import CantataError
from cantata.files import check_overwrite
from cantata.lyrics.text import LYRICS_SUFFIXES, lyrics_beside

FORMATS = ("json", "lrc", "srt")


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("lyrics", help="time-stamped lyrics (LRC, SRT, JSON)",
                       description="Time-stamp lyrics in songs: lines and words.")
    actions = p.add_subparsers(dest="lyrics_command", required=True, metavar="ACTION")
    a = actions.add_parser(
        "align", parents=parents, help="time every line and word of a song's lyrics",
        description="Align a lyrics text with a song: separate the vocals, find the singing, "
                    "match the lyrics' syllables to the sung ones. SONG may be a folder: "
                    "every song in it with a <song stem>.txt (or .lrc) beside it, results "
                    "to -o DIR.")
    a.add_argument("song", metavar="SONG", help="an audio file, or a folder of songs")
    a.add_argument("lyrics", nargs="?", type=Path, metavar="LYRICS",
                   help="the lyrics text (plain or LRC, UTF-8); default: <song stem>.txt or "
                        ".lrc beside the song")
    a.add_argument("-o", "--out", type=Path, metavar="OUT",
                   help="OUT.lrc, OUT.json or OUT.srt (the suffix picks the format), or a "
                        "folder: DIR/<song stem>.<format>; default: print the result")
    a.add_argument("--format", choices=FORMATS,
                   help="the result's format (default: -o's suffix, else json with -o DIR "
                        "and LRC on the screen)")
    a.add_argument("--language", metavar="XX",
                   help="the lyrics' language (ISO 639-1: en, de, es, ...), for syllable "
                        "counts by its hyphenation dictionary; default: vowel groups")
    a.add_argument("--method", choices=("auto", "agnostic", "sphinx"), default="auto",
                   help="agnostic: the syllable aligner (any language); sphinx: then "
                        "PocketSphinx's English forced alignment (--language en; pip install "
                        "'cantata[lyrics-en]'); auto (default): whichever measured better "
                        "for the language (docs/lyrics.md)")
    a.add_argument("--words", action="store_true",
                   help="LRC: enhanced LRC, a <mm:ss.xx> time before every word")
    a.add_argument("--model", choices=("default", "debug"), default=None,
                   help="'debug': tiny random separator and detector (tests)")
    a.add_argument("--separator", metavar="MODEL", help="separator model or checkpoint")
    a.add_argument("--detector", metavar="MODEL", help="singing detector model or checkpoint")
    a.add_argument("--overwrite", action="store_true", help="replace existing result files")
    a.set_defaults(run=run)


class _Job(NamedTuple):
    """One song, its lyrics file and where its result goes (None: printed)."""

    song: str
    lyrics: Path
    dest: Path | None


def run(args: argparse.Namespace, out: Output) -> int:
    jobs, fmt, skipped = _jobs(args)
    for song in skipped:
        out.error(f"{song}: no lyrics file beside it ({' or '.join(LYRICS_SUFFIXES)}); "
                  "skipped")
    if not jobs:
        raise CantataError(f"{args.song}: no song with a lyrics file beside it")
    from cantata.lyrics.api import use_sphinx

    use_sphinx(args.method, args.language)  # refuse sphinx before loading the models
    with out.loading("the separator and the singing detector"):
        from cantata.lyrics.api import LyricsAligner

        aligner = LyricsAligner.from_pretrained(args.model, separator=args.separator,
                                                detector=args.detector)
    by_song = {job.song: job for job in jobs}
    done, failed = each_file(out, list(by_song), "aligning lyrics",
                             lambda song: _one(aligner, by_song[song], fmt, args))
    _report(done, fmt, args, out)
    return 2 if failed else 0


def _jobs(args: argparse.Namespace) -> tuple[list[_Job], str, list[str]]:
    """The songs with their lyrics and result files, the format, and the songs skipped for
    want of lyrics; refuses what would fail only after the models are loaded."""
    folder = Path(args.song).is_dir()
    if folder and args.lyrics is not None:
        raise CantataError(f"{args.song} is a folder: its songs' lyrics are the .txt files "
                           "beside them (give no LYRICS)")
    if folder and args.out is None:
        raise CantataError("a folder of songs needs -o DIR for the result files")
    to_dir = args.out is not None and (folder or args.out.is_dir() or
                                       str(args.out).endswith(("/", "\\")))
    fmt = _format(args, to_dir)
    if to_dir:
        prepare_out_dir(args.out)
    songs = expand_inputs([args.song]) if folder else [args.song]
    names = names_apart(songs)
    jobs, skipped = [], []
    for song in songs:
        lyrics = args.lyrics if args.lyrics is not None else lyrics_beside(song)
        if lyrics is None:
            if not folder:
                raise CantataError(f"{song}: give the lyrics file (none beside the song: "
                                   f"{' or '.join(LYRICS_SUFFIXES)})")
            skipped.append(song)
            continue
        dest = args.out / f"{names[song]}.{fmt}" if to_dir else args.out
        if dest is not None:
            check_overwrite(dest, args.overwrite)
        jobs.append(_Job(song, lyrics, dest))
    return jobs, fmt, skipped


def _format(args: argparse.Namespace, to_dir: bool) -> str:
    """--format, else -o FILE's suffix, else json into a folder and LRC on the screen."""
    if args.out is None or to_dir:
        return args.format or ("json" if to_dir else "lrc")
    suffix = args.out.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise CantataError(f"{args.out}: -o takes a .lrc, .json or .srt file, or a folder")
    if args.format is not None and args.format != suffix:
        raise CantataError(f"{args.out}: --format {args.format} disagrees with the suffix")
    return suffix


def read_lyrics(path: Path) -> str:
    """The text of a lyrics file (UTF-8, with or without a byte-order mark).

    Raises:
        CantataError: missing, unreadable or not UTF-8 (the message names the file).
    """
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise CantataError(f"{path}: not UTF-8 text (save the lyrics as UTF-8)") from err
    except OSError as err:
        raise CantataError(f"{path}: cannot read the lyrics ({err.strerror or err})") from err


class _Done(NamedTuple):
    result: dict[str, Any]
    text: str
    job: _Job
    method: str


def _one(aligner: Any, job: _Job, fmt: str, args: argparse.Namespace) -> _Done:
    from cantata.lyrics.api import LyricsError
    from cantata.lyrics.formats import render

    text = read_lyrics(job.lyrics)
    try:
        alignment = aligner.align(job.song, text, language=args.language, method=args.method)
    except LyricsError as err:
        raise CantataError(f"{job.lyrics}: no words to align (the lyrics are empty, or only "
                           "tags and section markers)") from err
    result = alignment.to_dict()
    rendered = render(fmt, result, words=args.words)
    if job.dest is not None:
        write_output(job.dest, lambda tmp: tmp.write_text(rendered, encoding="utf-8"),
                     overwrite=args.overwrite)
    return _Done(result, rendered, job, alignment.method)


def _report(done: list[_Done], fmt: str, args: argparse.Namespace, out: Output) -> None:
    if out.json_mode:
        out.json(done[0].result if args.out is None and len(done) == 1
                 else [d.result for d in done])
        return
    for d in done:
        if d.job.dest is None:
            sys.stdout.write(d.text)
        else:
            n_words = sum(len(line["words"]) for line in d.result["lines"])
            how = "" if d.method in ("aligned", "sphinx") else f", {d.method} (see the warning)"
            out.summary(f"{d.job.song}: {plural(len(d.result['lines']), 'line')}, "
                        f"{plural(n_words, 'word')}{how} -> {d.job.dest}")
