"""MUSDB18 and MUSDB18-HQ: decoded track folders, or the ``.stem.mp4`` files themselves.

Layouts (``root`` is the folder holding ``train/`` and ``test/``):

- decoded (MUSDB18-HQ, or MUSDB18 decoded with ``musdb``'s tools):
  ``root/{train,test}/<artist> - <title>/{mixture,vocals,drums,bass,other}.wav``;
- native MUSDB18: ``root/{train,test}/<artist> - <title>.stem.mp4``, one file with five
  audio streams in the Native Instruments stems order mixture, drums, bass, other,
  vocals, read stream by stream with PyAV (no ffmpeg binary or stempeg needed).

The accompaniment is not a file: as in the ``musdb`` package it is the sum of the drums,
bass and other stems, recorded as ``meta["stem_sums"]["accompaniment"]`` so that
:func:`~cantata.data.sources.stems.read_stem` builds it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cantata.audio import count_audio_streams, info
from cantata.data.records import Example
from cantata.data.sources._files import PathLike, find_stem, require_dir
from cantata.data.sources.stems import STEM_SUMS, STREAMS
from cantata.errors import ConfigError

logger = logging.getLogger(__name__)

SOURCE = "musdb18"
SUBSETS = ("train", "test")
STEMS = ("vocals", "drums", "bass", "other")
ACCOMPANIMENT_PARTS = ("drums", "bass", "other")
#: Stream order inside a ``.stem.mp4`` (Native Instruments stems format).
STREAM_ORDER = ("mixture", "drums", "bass", "other", "vocals")
STEM_MP4 = ".stem.mp4"


def load_musdb(root: PathLike, *, subset: str | None = None) -> list[Example]:
    """One Example per MUSDB18 track, sorted by id.

    Args:
        root: the folder holding ``train/`` and ``test/``.
        subset: ``"train"``, ``"test"``, or None for both.

    Returns:
        Examples with id ``musdb18/<subset>/<track>``, group = the artist (track name
        before ``" - "``), ``meta["split"]`` = the subset.

    Raises:
        ConfigError: unknown subset, missing folder, a track folder without all five
            files, a ``.stem.mp4`` without five audio streams, or no tracks at all.
    """
    root = require_dir(root, "MUSDB18")
    if subset is not None and subset not in SUBSETS:
        raise ConfigError(f"MUSDB18 subset must be one of {SUBSETS} or None, got {subset!r}")
    examples = []
    for name in (subset,) if subset else SUBSETS:
        folder = root / name
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                examples.append(_decoded_track(entry, name))
            elif entry.name.endswith(STEM_MP4):
                examples.append(_stem_mp4_track(entry, name))
    if not examples:
        raise ConfigError(
            f"{root}: no MUSDB18 tracks found; expected {root}/{{train,test}}/<track>/"
            f"{{mixture,vocals,drums,bass,other}}.wav or {root}/{{train,test}}/<track>{STEM_MP4}")
    logger.info("MUSDB18 at %s: %d tracks", root, len(examples))
    return sorted(examples, key=lambda ex: ex.id)


def _decoded_track(folder: Path, subset: str) -> Example:
    files = {name: find_stem(folder, name) for name in ("mixture", *STEMS)}
    missing = [name for name, path in files.items() if path is None]
    if missing:
        raise ConfigError(f"{folder}: MUSDB18 track folder lacks {', '.join(missing)} "
                          "(needs mixture, vocals, drums, bass and other audio files)")
    header = info(files["mixture"])
    return Example(
        id=f"{SOURCE}/{subset}/{folder.name}", audio=str(files["mixture"]),
        stems={name: str(files[name]) for name in STEMS},
        duration_s=header.duration_s, sample_rate=header.sample_rate,
        group=_artist(folder.name), source=SOURCE,
        meta={"split": subset, STEM_SUMS: {"accompaniment": list(ACCOMPANIMENT_PARTS)}},
    )


def _stem_mp4_track(path: Path, subset: str) -> Example:
    n_streams = count_audio_streams(path)
    if n_streams != len(STREAM_ORDER):
        raise ConfigError(f"{path}: a MUSDB18 {STEM_MP4} needs {len(STREAM_ORDER)} audio "
                          f"streams ({', '.join(STREAM_ORDER)}), found {n_streams}")
    track = path.name[: -len(STEM_MP4)]
    header = info(path)
    return Example(
        id=f"{SOURCE}/{subset}/{track}", audio=str(path),
        duration_s=header.duration_s, sample_rate=header.sample_rate,
        group=_artist(track), source=SOURCE,
        meta={"split": subset, STREAMS: {name: i for i, name in enumerate(STREAM_ORDER)},
              STEM_SUMS: {"accompaniment": list(ACCOMPANIMENT_PARTS)}},
    )


def _artist(track: str) -> str:
    return track.split(" - ", 1)[0].strip()
