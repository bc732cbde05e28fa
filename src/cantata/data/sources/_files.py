"""Helpers shared by the loaders: finding folders and audio files, naming examples."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cantata.errors import ConfigError

PathLike = str | os.PathLike[str]

#: Suffixes the loaders treat as audio (anything :func:`cantata.audio.load` decodes).
AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".wma",
     ".aif", ".aiff", ".aifc"}
)


def require_dir(path: PathLike, what: str) -> Path:
    """``path`` as a Path, or a ConfigError saying that the ``what`` folder is missing."""
    folder = Path(path)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: {what} folder not found")
    return folder


def is_audio(path: Path) -> bool:
    """A visible file with an audio suffix (macOS ``._`` shadow files are not audio)."""
    return path.suffix.lower() in AUDIO_SUFFIXES and not path.name.startswith(".") and \
        path.is_file()


def audio_files(folder: Path) -> list[Path]:
    """Every audio file under ``folder``, recursively, sorted by path."""
    return sorted(p for p in folder.rglob("*") if is_audio(p))


def find_stem(folder: Path, name: str) -> Path | None:
    """The audio file ``folder/<name>.<any audio suffix>``, or None."""
    matches = sorted(p for p in folder.glob(f"{name}.*") if is_audio(p))
    return matches[0] if matches else None


def base_name(path: Path) -> str:
    """The file name up to its first dot: ``198-209-0000.hq.ogg`` -> ``198-209-0000``."""
    return path.name.split(".", 1)[0]


def relative_id(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, without suffixes, POSIX-style: an example id."""
    rel = path.relative_to(root)
    return (rel.parent / base_name(path)).as_posix()


@contextmanager
def csv_table(path: Path, columns: Sequence[str]) -> Iterator[csv.DictReader]:
    """The rows of a CSV or TSV table (tab-separated when its header line holds a tab),
    checked to have ``columns``.

    Raises:
        ConfigError: the header lacks one of ``columns``.
    """
    with path.open(encoding="utf-8-sig", newline="") as f:
        header_line = f.readline()
        f.seek(0)
        reader = csv.DictReader(f, delimiter="\t" if "\t" in header_line else ",")
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{path}: header lacks column(s) {', '.join(missing)} "
                              f"(needs {','.join(columns)})")
        yield reader
