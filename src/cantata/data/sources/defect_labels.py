"""Defect labels of training material: the users' own weak labels, and how Examples hold them.

An Example for defect detection keeps its WEAK clip labels (the defect types present,
``[]`` for a clean clip) in ``meta["defect_types"]`` and, when it has them, its STRONG
labels (one event per region, labelled with the type) in ``regions``;
``meta["labels"]`` lists the types annotated (all of
:data:`~cantata.data.labels.DEFECT_TYPES`).

Table format for real recordings: a header row with ``path,types`` (comma- or
tab-separated; the delimiter is taken from the header line), one row per file; ``types``
separated by ``;`` or ``|``, empty for a clean file; ``path`` relative to the table's
folder or absolute. An optional ``group`` column sets the group (default: the file's
name up to its first dot), e.g. the album, to split by.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from cantata.audio import info
from cantata.data.labels import DEFECT_TYPES
from cantata.data.records import Example
from cantata.data.sources._files import PathLike, base_name, csv_table
from cantata.errors import AudioLoadError, ConfigError

logger = logging.getLogger(__name__)

#: ``Example.meta`` key of the weak clip labels (sorted defect types present).
WEAK_KEY = "defect_types"
COLUMNS = ("path", "types")
_SEPARATORS = re.compile(r"[;|]")


def weak_labels(example: Example) -> tuple[str, ...]:
    """The defect types an Example is labelled with (empty: clean).

    Raises:
        ConfigError: the Example has no defect labels at all.
    """
    if WEAK_KEY not in example.meta:
        raise ConfigError(f"example {example.id!r} has no defect labels (meta[{WEAK_KEY!r}])")
    return tuple(example.meta[WEAK_KEY])


def has_strong(example: Example) -> bool:
    """Whether the clip's regions are all its events, with times (strong labels): a clip
    ``cantata data synth defects`` made (its ``meta["defects"]`` lists the injections, none
    for a clean clip), or any clip with regions; a weakly labelled recording has neither."""
    return bool(example.regions) or isinstance(example.meta.get("defects"), list)


def parse_types(text: str, *, where: str) -> list[str]:
    """Sorted defect types of ``"click;dropout"`` (or ``|``-separated; empty: none).

    Raises:
        ConfigError: an unknown type, named with ``where`` (e.g. ``table.csv:7``).
    """
    types = {t.strip() for t in _SEPARATORS.split(text) if t.strip()}
    unknown = sorted(types - set(DEFECT_TYPES))
    if unknown:
        raise ConfigError(f"{where}: unknown defect type(s) {', '.join(map(repr, unknown))} "
                          f"(known: {', '.join(DEFECT_TYPES)})")
    return sorted(types)


def load_weak_labels(path: PathLike) -> list[Example]:
    """One Example per row of a ``path,types`` table: weak labels only, sorted by id.

    Returns:
        Examples with id = the path as written (without suffix), source = the table's
        stem, ``meta["defect_types"]`` and ``meta["labels"]``, no regions, durations and
        rates from the files' headers.

    Raises:
        ConfigError: missing table, missing columns, an unknown type, a file listed twice,
            or a missing or undecodable audio file; each names the table and line.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such weak-label table")
    examples = _read_rows(path)
    if not examples:
        raise ConfigError(f"{path}: the weak-label table has no rows")
    logger.info("weak labels %s: %d files", path, len(examples))
    return sorted(examples.values(), key=lambda ex: ex.id)


def _read_rows(path: Path) -> dict[Path, Example]:
    with csv_table(path, COLUMNS) as reader:
        examples: dict[Path, Example] = {}
        lines: dict[Path, int] = {}
        for row in reader:
            where = f"{path}:{reader.line_num}"
            audio, example = _example(path, row, where)
            if audio in examples:
                raise ConfigError(f"{where}: {audio} is listed twice (first on line "
                                  f"{lines[audio]})")
            examples[audio], lines[audio] = example, reader.line_num
    return examples


def _example(table: Path, row: dict[str, str | None], where: str) -> tuple[Path, Example]:
    written = (row.get("path") or "").strip()
    if not written:
        raise ConfigError(f"{where}: empty path")
    types = parse_types(row.get("types") or "", where=where)
    audio = Path(written) if Path(written).is_absolute() else table.parent / written
    if not audio.is_file():
        raise ConfigError(f"{where}: audio file {audio} not found")
    try:
        header = info(audio)
    except AudioLoadError as err:
        raise ConfigError(f"{where}: {err}") from err
    name = Path(written)
    return audio, Example(
        id=name.with_name(base_name(name)).as_posix(), audio=str(audio),
        duration_s=header.duration_s, sample_rate=header.sample_rate,
        group=(row.get("group") or "").strip() or base_name(audio), source=table.stem,
        meta={WEAK_KEY: types, "labels": list(DEFECT_TYPES)})
