"""Label manifests: a CSV/TSV table of labelled regions, or a JSONL manifest of our own.

Table format: a header row with at least ``path,start,end,label`` (comma- or
tab-separated; the delimiter is taken from the header line), one row per region, times
in seconds. ``path`` is relative to the table's folder or absolute. A row with empty
``start``, ``end`` and ``label`` lists a file without regions (e.g. a negative example).
An optional ``group`` column sets the group (default: the file's stem). Every label that
occurs in the table is taken as annotated for every file: a file with no rows for a label
has none of it; ``meta["labels"]`` lists these labels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from cantata.audio import info
from cantata.data.records import Example, read_manifest
from cantata.data.sources._files import PathLike, base_name, csv_table
from cantata.errors import ConfigError, ShapeError
from cantata.types import Segment

logger = logging.getLogger(__name__)

COLUMNS = ("path", "start", "end", "label")


@dataclass
class _File:
    """One audio file of a table: the path as written, its group, its regions."""

    written: str
    group: str
    segments: list[Segment] = field(default_factory=list)


def load_label_manifest(path: PathLike) -> list[Example]:
    """One Example per audio file of a label table (or the records of a ``.jsonl``), by id.

    Returns:
        Examples with id = the audio path as written in the table (without suffix),
        source = the table's stem, regions sorted by start time, durations from the
        files' headers.

    Raises:
        ConfigError: missing file, missing columns, a bad row, or a missing audio file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such label manifest")
    if path.suffix.lower() == ".jsonl":
        return sorted(read_manifest(path), key=lambda ex: ex.id)
    files = _read_table(path)
    if not files:
        raise ConfigError(f"{path}: the label manifest has no rows")
    labels = sorted({seg.label for entry in files.values() for seg in entry.segments})
    examples = []
    for audio, entry in files.items():
        header = info(audio)
        written = Path(entry.written)
        examples.append(Example(
            id=written.with_name(base_name(written)).as_posix(), audio=str(audio),
            regions=tuple(sorted(entry.segments, key=lambda s: (s.start_s, s.label))),
            duration_s=header.duration_s, sample_rate=header.sample_rate,
            group=entry.group or base_name(audio), source=path.stem, meta={"labels": labels},
        ))
    logger.info("label manifest %s: %d files, labels %s", path, len(examples), labels)
    return sorted(examples, key=lambda ex: ex.id)


def _read_table(path: Path) -> dict[Path, _File]:
    """Resolved audio path -> its entry, in the order of first appearance."""
    with csv_table(path, COLUMNS) as reader:
        files: dict[Path, _File] = {}
        for row in reader:
            written = (row["path"] or "").strip()
            audio = _resolve(path, written, reader.line_num)
            entry = files.setdefault(audio, _File(written, (row.get("group") or "").strip()))
            segment = _segment(row, path, reader.line_num)
            if segment is not None:
                entry.segments.append(segment)
    return files


def _resolve(table: Path, written: str, line: int) -> Path:
    if not written:
        raise ConfigError(f"{table}:{line}: empty path")
    audio = Path(written) if Path(written).is_absolute() else table.parent / written
    if not audio.is_file():
        raise ConfigError(f"{table}:{line}: audio file {audio} not found")
    return audio


def _segment(row: dict[str, str | None], table: Path, line: int) -> Segment | None:
    """The row's region, or None for a row that only lists its file."""
    start, end, label = ((row[c] or "").strip() for c in ("start", "end", "label"))
    if not (start or end or label):
        return None
    if not label:
        raise ConfigError(f"{table}:{line}: region {start!r}-{end!r} has no label")
    try:
        return Segment(float(start), float(end), label)
    except (ValueError, ShapeError) as err:
        raise ConfigError(f"{table}:{line}: bad region {start!r}, {end!r} ({err})") from err
