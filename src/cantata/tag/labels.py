"""Labels files for training a tagger: which tags each recording has.

Four formats (``format="auto"`` tells them apart):

- ``csv``: a header with ``path`` and ``tags`` (``a;b;c``), optional ``artist`` and
  ``album`` columns (validation then holds out whole artists, else albums);
- ``jsonl``: one object a line with the same keys (``tags`` a ``;``-joined string or a
  list);
- ``mtat``: MagnaTagATune's ``annotations_final.csv``: tab-separated, ``clip_id``, one 0/1
  column per tag (188), ``mp3_path``; the clips of one song share a group;
- ``mtg-jamendo``: MTG-Jamendo's TSV: ``TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS...``,
  tags such as ``genre---rock`` (kept whole), grouped by artist.

Relative audio paths are taken from ``audio_root`` (default: the labels file's folder).
Every problem names the file and line: a missing audio file, a tag column the file does
not have, a row without tags.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cantata.errors import ConfigError

FORMATS = ("auto", "csv", "jsonl", "mtat", "mtg-jamendo")
MTAT_ID, MTAT_PATH = "clip_id", "mp3_path"
JAMENDO_COLUMNS = ("TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION")
#: an MTAT clip's file name ends in its start and end (``...-30-59.mp3``): the rest is the song
_MTAT_CLIP = re.compile(r"-\d+-\d+\.mp3$")


@dataclass(frozen=True)
class TagItem:
    """One labelled recording.

    Attributes:
        audio: its file.
        tags: the tags it has (of the vocabulary).
        group: what validation splits by (artist, album, song, else the file).
        line: its line in the labels file.
    """

    audio: str
    tags: frozenset[str]
    group: str
    line: int


@dataclass(frozen=True)
class TagSet:
    """A labels file read: its items and the tag vocabulary, most frequent tag first."""

    items: list[TagItem]
    vocabulary: tuple[str, ...]
    source: str

    def counts(self) -> dict[str, int]:
        """Positives per tag."""
        found = Counter(t for item in self.items for t in item.tags)
        return {t: found[t] for t in self.vocabulary}


def read_labels(path: str | os.PathLike[str], *, format: str = "auto",
                audio_root: str | os.PathLike[str] | None = None,
                tags: Sequence[str] | None = None) -> TagSet:
    """The labelled recordings of a labels file.

    Args:
        path: the labels file.
        format: one of :data:`FORMATS`.
        audio_root: the folder relative audio paths start from (default: the file's).
        tags: the vocabulary to keep (other tags are dropped); default every tag found.

    Raises:
        ConfigError: unreadable file, unknown format, a missing audio file, a tag column
            the file lacks, a row without tags, a chosen tag no row has, or no rows.
    """
    path = Path(path)
    if format not in FORMATS:
        raise ConfigError(f"{path}: unknown labels format {format!r}; one of {list(FORMATS)}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the labels file ({err})") from err
    kind = sniff(path, text) if format == "auto" else format
    root = Path(audio_root) if audio_root is not None else path.parent
    chosen = None if tags is None else tuple(tags)
    reader = {"csv": _csv, "jsonl": _jsonl, "mtat": _mtat, "mtg-jamendo": _jamendo}[kind]
    items = []
    for line, audio, found, group in reader(path, text, chosen):
        file = Path(audio) if Path(audio).is_absolute() else root / audio
        if not file.is_file():
            raise ConfigError(f"{path}:{line}: audio file {file} not found")
        kept = frozenset(found if chosen is None else set(found) & set(chosen))
        items.append(TagItem(str(file), kept, group or str(file), line))
    if not items:
        raise ConfigError(f"{path}: no labelled recordings")
    return TagSet(items, vocabulary(path, items, chosen), str(path))


def sniff(path: Path, text: str) -> str:
    """The format of a labels file from its name and first line."""
    if path.suffix.lower() == ".jsonl":
        return "jsonl"
    first = text.split("\n", 1)[0].replace('"', "")
    if first.startswith(MTAT_ID + "\t"):
        return "mtat"
    if first.startswith("TRACK_ID\t"):
        return "mtg-jamendo"
    return "csv"


def vocabulary(path: Path, items: list[TagItem], chosen: tuple[str, ...] | None
               ) -> tuple[str, ...]:
    """The chosen tags (each must occur), else every tag found, most frequent first."""
    found = Counter(t for item in items for t in item.tags)
    if chosen is None:
        return tuple(sorted(found, key=lambda t: (-found[t], t)))
    never = [t for t in chosen if not found[t]]
    if never:
        raise ConfigError(f"{path}: no recording has the tag(s) {', '.join(never)}")
    return chosen


Row = tuple[int, str, Sequence[str], str]
"""(line, audio path, tags, group)."""


def split_tags(value: object, where: str) -> list[str]:
    """``"a;b"`` or ``["a", "b"]`` -> ``["a", "b"]``.

    Raises:
        ConfigError: no tag (``where`` names the line).
    """
    parts = value.split(";") if isinstance(value, str) else value
    if not isinstance(parts, list):
        raise ConfigError(f"{where}: tags must be a string 'a;b;c' or a list, got {value!r}")
    names = [str(p).strip() for p in parts if str(p).strip()]
    if not names:
        raise ConfigError(f"{where}: empty tag set (give at least one tag)")
    return names


def _csv(path: Path, text: str, chosen: tuple[str, ...] | None) -> Iterator[Row]:
    rows = csv.DictReader(text.splitlines())
    missing = [c for c in ("path", "tags") if c not in (rows.fieldnames or [])]
    if missing:
        raise ConfigError(f"{path}:1: no column {' or '.join(missing)} (the header must name "
                          f"path and tags; found {rows.fieldnames})")
    for row in rows:
        where = f"{path}:{rows.line_num}"
        if not row.get("path"):
            raise ConfigError(f"{where}: no path")
        yield (rows.line_num, row["path"], split_tags(row.get("tags") or "", where),
               row.get("artist") or row.get("album") or "")


def _jsonl(path: Path, text: str, chosen: tuple[str, ...] | None) -> Iterator[Row]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{where}: not JSON ({err.msg})") from err
        if not isinstance(row, dict) or not isinstance(row.get("path"), str):
            raise ConfigError(f"{where}: needs an object with a 'path' string")
        yield (number, row["path"], split_tags(row.get("tags", ""), where),
               str(row.get("artist") or row.get("album") or ""))


def _mtat(path: Path, text: str, chosen: tuple[str, ...] | None) -> Iterator[Row]:
    rows = csv.reader(text.splitlines(), delimiter="\t")
    header = next(rows, [])
    if not header or header[0] != MTAT_ID or header[-1] != MTAT_PATH:
        raise ConfigError(f"{path}:1: not a MagnaTagATune annotations file (the header must "
                          f"run {MTAT_ID}, the tags, {MTAT_PATH})")
    columns = header[1:-1]
    unknown = [t for t in chosen or () if t not in columns]
    if unknown:
        raise ConfigError(f"{path}:1: no tag column {', '.join(map(repr, unknown))} "
                          f"(the file has {len(columns)}: {', '.join(columns[:8])}, ...)")
    for row in rows:
        if not row:
            continue
        where = f"{path}:{rows.line_num}"
        if len(row) != len(header):
            raise ConfigError(f"{where}: {len(row)} columns, the header has {len(header)}")
        if row[-1] == "":
            continue  # MTAT lists a few clips without audio
        flags = row[1:-1]
        if any(f not in ("0", "1") for f in flags):
            raise ConfigError(f"{where}: tag columns must be 0 or 1")
        yield (rows.line_num, row[-1], [t for t, f in zip(columns, flags, strict=True)
                                        if f == "1"], _MTAT_CLIP.sub("", row[-1]))


def _jamendo(path: Path, text: str, chosen: tuple[str, ...] | None) -> Iterator[Row]:
    lines = text.splitlines()
    header = lines[0].split("\t") if lines else []
    if tuple(header[:5]) != JAMENDO_COLUMNS:
        raise ConfigError(f"{path}:1: not an MTG-Jamendo file (the header must start "
                          f"{' '.join(JAMENDO_COLUMNS)})")
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        where = f"{path}:{number}"
        if len(cells) < 5:
            raise ConfigError(f"{where}: {len(cells)} columns, need at least 5")
        yield number, cells[3], split_tags(cells[5:], where), cells[1]
