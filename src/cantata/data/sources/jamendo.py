"""The Jamendo singing-voice corpus (Ramona et al. 2008): songs with sung / not-sung labels.

Layout: audio in ``root/audio/{train,valid,test}/`` (or ``root/{train,valid,test}/``, or
flat in ``root/audio/``), labels in ``root/labels/`` or ``root/jamendo_lab/`` as
``<audio file stem>.lab`` with lines ``start end sing|nosing`` (seconds; ``1``/``0`` are
read as sing/nosing too). Only singing is annotated, so an Example has "vocal" regions
only and ``meta["labels"] == ["vocal"]``: accompaniment and silence are unknown, not
absent.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from cantata.audio import info
from cantata.data.records import Example
from cantata.data.sources._files import PathLike, audio_files, require_dir
from cantata.errors import ConfigError
from cantata.types import Segment

logger = logging.getLogger(__name__)

SOURCE = "jamendo"
LABEL_DIRS = ("labels", "jamendo_lab")
SPLITS = ("train", "valid", "test")
SING, NO_SING = frozenset({"sing", "1"}), frozenset({"nosing", "0"})
#: ``Artist - Title``: the part before " - " is an artist unless it is a track number.
ARTIST_TITLE = re.compile(r"^(?P<artist>.*?\S)\s+-\s+\S")


def load_jamendo(root: PathLike) -> list[Example]:
    """One Example per labelled Jamendo song, sorted by id.

    Group: the artist when the file name reads ``Artist - Title``, else the file stem.
    ``meta["split"]`` is the original split (``train``/``valid``/``test``, None when flat).
    Audio files without a label file are skipped with a warning.

    Raises:
        ConfigError: missing folders, no labelled audio, or a malformed label line.
    """
    root = require_dir(root, "Jamendo")
    label_dir = next((root / d for d in LABEL_DIRS if (root / d).is_dir()), None)
    if label_dir is None:
        raise ConfigError(f"{root}: no Jamendo label folder ({' or '.join(LABEL_DIRS)})")
    labels = {p.stem: p for p in label_dir.glob("*.lab")}
    audio_dir = root / "audio" if (root / "audio").is_dir() else root
    examples = []
    for path in audio_files(audio_dir):
        if label_dir in path.parents:
            continue
        if path.stem not in labels:
            logger.warning("%s: no %s/%s.lab, skipped", path, label_dir, path.stem)
            continue
        examples.append(_example(path, labels[path.stem]))
    if not examples:
        raise ConfigError(f"{root}: no Jamendo audio with a matching .lab file in {label_dir}")
    logger.info("Jamendo at %s: %d songs", root, len(examples))
    return sorted(examples, key=lambda ex: ex.id)


def _example(path: Path, label_path: Path) -> Example:
    header = info(path)
    split = path.parent.name if path.parent.name in SPLITS else None
    match = ARTIST_TITLE.match(path.stem)
    artist = match["artist"] if match and not match["artist"].isdigit() else None
    return Example(
        id=f"{SOURCE}/{path.stem}", audio=str(path), regions=tuple(read_lab(label_path)),
        duration_s=header.duration_s, sample_rate=header.sample_rate,
        group=artist or path.stem, source=SOURCE, meta={"split": split, "labels": ["vocal"]},
    )


def read_lab(path: Path) -> list[Segment]:
    """"vocal" segments from a Jamendo ``.lab`` file (``start end sing|nosing`` per line)."""
    segments = []
    with path.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 3 or fields[2] not in SING | NO_SING:
                raise ConfigError(f"{path}:{n}: expected 'start end sing|nosing', got {line!r}")
            try:
                start, end = max(float(fields[0]), 0.0), float(fields[1])
            except ValueError as err:
                raise ConfigError(f"{path}:{n}: times must be numbers, got {line!r}") from err
            if fields[2] in SING and end > start:
                segments.append(Segment(start, end, "vocal"))
    return segments
