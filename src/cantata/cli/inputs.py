"""The inputs and per-input outputs of the file commands (``info``, ``detect``, ``embed``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cantata.errors import CantataError

if TYPE_CHECKING:
    from cantata.cli.output import Output

P = TypeVar("P", str, Path)
R = TypeVar("R")


def add_file_results(p: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    """The inputs and result files of a per-file command: ``FILE_OR_DIR...``, ``-o DIR``
    and ``--format`` (one of ``formats``)."""
    p.add_argument("files", nargs="*", metavar="FILE_OR_DIR",
                   help="audio files, or folders (searched recursively for audio files)")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="write one result file per input: DIR/<input stem>.<ext> (inputs "
                        "named alike: <stem>-2, <stem>-3, ... in input order)")
    p.add_argument("--format", choices=list(formats),
                   help="result file format with -o (default json); without -o, print the "
                        "results in this format instead of tables")


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Files as given; folders replaced by their audio files (recursively, sorted).

    The same discovery as ``cantata separate`` and ``cantata scan``; a missing or
    unreadable file is kept, to be reported when its turn comes.

    Raises:
        CantataError: a folder holds no audio file.
    """
    from cantata.data.sources._files import audio_files

    files: list[str] = []
    for item in inputs:
        if _is_dir(item):
            found = audio_files(Path(item))
            if not found:
                raise CantataError(f"{item}: no audio files in this folder")
            files += map(str, found)
        else:
            files.append(item)
    return list(dict.fromkeys(files))


def _is_dir(item: str) -> bool:
    try:
        return Path(item).is_dir()
    except OSError:  # e.g. a name over 255 bytes: not a folder, reported as a file
        return False


def names_apart(files: Iterable[P]) -> dict[P, str]:
    """Each input's output name: its stem, or ``<stem>-2``, ``<stem>-3``... when an earlier
    input took it (``song``, ``song-2``): the rule of every command that writes per-input
    files (``cantata separate``'s ``{track}`` included).

    Deterministic: the same inputs in the same order get the same names.
    """
    names: dict[P, str] = {}
    taken: set[str] = set()
    for f in files:
        stem = Path(f).stem
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        names[f] = name
    return names


def prepare_out_dir(folder: Path) -> Path:
    """Create the output folder ``-o DIR`` if needed and check that it takes files.

    Raises:
        CantataError: it is a file, cannot be created or is not writable.
    """
    if folder.exists() and not folder.is_dir():
        raise CantataError(f"{folder}: not a folder (-o takes a folder for the result files)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CantataError(f"{folder}: cannot create the output folder "
                           f"({err.strerror or err})") from err
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CantataError(f"{folder}: Permission denied (the output folder is not writable)")
    return folder


def write_problem(dest: Path, err: OSError) -> CantataError:
    """One line for a result file that could not be written, naming it and the reason."""
    return CantataError(f"{dest}: cannot write ({err.strerror or err})")


def write_output(dest: Path, fill: Callable[[Path], Any], *, overwrite: bool) -> None:
    """Write ``dest`` atomically through ``fill(temporary path)``; one line if it fails.

    Raises:
        OutputExistsError: ``dest`` exists and ``overwrite`` is false.
        CantataError: writing failed (:func:`write_problem`).
    """
    from cantata.files import atomic_output

    try:
        with atomic_output(dest, overwrite=overwrite) as tmp:
            fill(tmp)
    except OSError as err:
        raise write_problem(dest, err) from err


def each_file(out: Output, files: Sequence[str], description: str,
              work: Callable[[str], R]) -> tuple[list[R], int]:
    """``work(path)`` for every file, under a progress bar: a :class:`CantataError` is
    printed and counted, and the next file goes on. Returns the results of the files that
    worked, in order, and how many failed."""
    done: list[R] = []
    failed = 0
    with out.progress(description, total=len(files), unit="files") as advance:
        for path in files:
            try:
                done.append(work(path))
            except CantataError as err:
                failed += 1
                out.error(str(err))
            advance(1)
    return done, failed
