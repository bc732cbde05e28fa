"""Labels files for training a tagger: which tags each recording has.

Four formats (``format="auto"`` tells them apart):

- ``csv``: a header with ``path`` and ``tags`` (``a;b;c``), optional ``artist`` and
  ``album`` columns (validation then holds out whole artists, else albums) and ``lyrics``
  (else the ``.txt`` beside the audio is the recording's lyrics, for ``data.lyrics``);
- ``jsonl``: one object a line with the same keys (``tags`` a ``;``-joined string or a
  list);

CSV and JSONL rows may also name a ``teacher``: an ``.npz`` of a teacher's scores for
every chunk of the recording (``starts`` (chunks,) in seconds, ``scores`` (chunks, tags),
``tags``, ``teacher``; ``scripts/musicnn_teacher.py`` writes them). A run on such rows
distils: each chunk learns the teacher's scores, except where the row's ``tags`` (honest
positives) or ``absent`` (honest negatives, same syntax) say otherwise; its tags may then
be empty. Either every row names a teacher or none does.
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

import numpy as np

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
        absent: tags it is known not to have (used when distilling).
        teacher: the ``.npz`` of a teacher's chunk scores, when distilling.
        lyrics: its lyrics from the labels file's ``lyrics`` column, if any.
    """

    audio: str
    tags: frozenset[str]
    group: str
    line: int
    absent: frozenset[str] = frozenset()
    teacher: str | None = None
    lyrics: str | None = None


@dataclass(frozen=True)
class TeacherScores:
    """A teacher's scores for the chunks of one recording.

    Attributes:
        starts: (chunks,) chunk starts in seconds.
        scores: (chunks, tags) the teacher's probabilities.
        tags: the teacher's vocabulary.
        name: which teacher.
    """

    starts: np.ndarray
    scores: np.ndarray
    tags: tuple[str, ...]
    name: str

    def targets(self, item: TagItem, tags: Sequence[str]) -> np.ndarray:
        """(chunks, len(tags)) soft targets: the teacher's scores, 1 for the item's honest
        tags, 0 for its absent ones.

        Raises:
            ConfigError: a tag the teacher does not score and the item does not settle.
        """
        column = {t: i for i, t in enumerate(self.tags)}
        out = np.empty((len(self.starts), len(tags)), np.float32)
        for j, tag in enumerate(tags):
            if tag in item.tags:
                out[:, j] = 1.0
            elif tag in item.absent:
                out[:, j] = 0.0
            elif tag in column:
                out[:, j] = self.scores[:, column[tag]]
            else:
                raise ConfigError(f"{item.teacher}: the teacher ({self.name}) has no tag "
                                  f"{tag!r} (it scores {', '.join(self.tags[:6])}, ...)")
        return out

    def song_truth(self, item: TagItem, tags: Sequence[str], decision: float = 0.5
                   ) -> np.ndarray:
        """(len(tags),) bool: the honest label where there is one, else the teacher's
        decision (its mean score over the chunks >= ``decision``)."""
        return self.targets(item, tags).mean(axis=0) >= decision


def read_teacher(path: str | os.PathLike[str]) -> TeacherScores:
    """A teacher file (module doc).

    Raises:
        ConfigError: unreadable, or arrays that do not fit together.
    """
    try:
        with np.load(path) as data:
            found = TeacherScores(data["starts"].astype(np.float64),
                                  data["scores"].astype(np.float32),
                                  tuple(str(t) for t in data["tags"]), str(data["teacher"]))
    except (OSError, KeyError, ValueError) as err:
        raise ConfigError(f"{path}: not a teacher file ({err})") from err
    if found.scores.shape != (len(found.starts), len(found.tags)) or not len(found.starts):
        raise ConfigError(f"{path}: teacher scores {found.scores.shape} do not fit "
                          f"{len(found.starts)} chunks of {len(found.tags)} tags")
    return found


def item_truth(item: TagItem, tags: Sequence[str], decision: float = 0.5) -> np.ndarray:
    """(len(tags),) bool: the item's tags, or when distilling its
    :meth:`~TeacherScores.song_truth` at the teacher's ``decision`` threshold."""
    if item.teacher is None:
        return np.array([t in item.tags for t in tags], bool)
    return read_teacher(item.teacher).song_truth(item, tags, decision)


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
    for row in reader(path, text, chosen):
        line, audio, found, group = row[:4]
        extra = row[4] if len(row) > 4 else {}
        file = Path(audio) if Path(audio).is_absolute() else root / audio
        if not file.is_file():
            raise ConfigError(f"{path}:{line}: audio file {file} not found")
        teacher = extra.get("teacher")
        if teacher is not None:
            teacher = str(Path(teacher) if Path(teacher).is_absolute() else root / teacher)
            if not Path(teacher).is_file():
                raise ConfigError(f"{path}:{line}: teacher file {teacher} not found")
        items.append(TagItem(str(file), _kept(found, chosen), group or str(file), line,
                             absent=_kept(extra.get("absent", ()), chosen), teacher=teacher,
                             lyrics=extra.get("lyrics")))
    if not items:
        raise ConfigError(f"{path}: no labelled recordings")
    distilled = [item.teacher is not None for item in items]
    if any(distilled) and not all(distilled):
        line = items[distilled.index(False)].line
        raise ConfigError(f"{path}:{line}: no teacher file, though other rows name one "
                          f"(either every row names a teacher or none does)")
    if all(distilled):
        return TagSet(items, chosen or read_teacher(items[0].teacher).tags, str(path))
    return TagSet(items, vocabulary(path, items, chosen), str(path))


def _kept(names: Sequence[str], chosen: tuple[str, ...] | None) -> frozenset[str]:
    return frozenset(names if chosen is None else set(names) & set(chosen))


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


Row = tuple
"""(line, audio path, tags, group[, {"teacher": ..., "absent": [...]}])."""


def split_tags(value: object, where: str, *, required: bool = True) -> list[str]:
    """``"a;b"`` or ``["a", "b"]`` -> ``["a", "b"]``.

    Raises:
        ConfigError: neither a string nor a list, or (``required``) no tag; ``where``
            names the line.
    """
    parts = value.split(";") if isinstance(value, str) else value
    if not isinstance(parts, list):
        raise ConfigError(f"{where}: tags must be a string 'a;b;c' or a list, got {value!r}")
    names = [str(p).strip() for p in parts if str(p).strip()]
    if required and not names:
        raise ConfigError(f"{where}: empty tag set (give at least one tag)")
    return names


def distilling(row: dict, where: str) -> dict[str, object]:
    """A row's ``teacher``, ``absent`` (see the module doc) and ``lyrics``, where given."""
    extra: dict[str, object] = {}
    if isinstance(row.get("lyrics"), str) and row["lyrics"].strip():
        extra["lyrics"] = row["lyrics"].strip()
    if row.get("teacher"):
        extra["teacher"] = str(row["teacher"])
    if row.get("absent"):
        extra["absent"] = split_tags(row["absent"], where, required=False)
    return extra


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
        extra = distilling(row, where)
        tags = split_tags(row.get("tags") or "", where, required="teacher" not in extra)
        yield (rows.line_num, row["path"], tags, row.get("artist") or row.get("album") or "",
               extra)


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
        extra = distilling(row, where)
        tags = split_tags(row.get("tags", ""), where, required="teacher" not in extra)
        yield (number, row["path"], tags, str(row.get("artist") or row.get("album") or ""),
               extra)


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
