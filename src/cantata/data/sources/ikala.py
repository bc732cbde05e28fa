"""iKala: 30-second karaoke excerpts, accompaniment on the LEFT channel, voice on the RIGHT.

Layout: ``root/Wavfile/<song id>_<section>.wav`` (44.1 kHz stereo; section ``verse`` or
``chorus``), optionally ``root/PitchLabel/<name>.pv`` (one MIDI pitch per 32 ms frame,
0 = no voice), ``root/Lyrics/<name>.lab`` (``start_ms end_ms lyric [pronunciation]``)
and ``root/id_mapping.txt`` (tab-separated ``singer``, ``song id``, with a header row).

File names carry the song, not the singer: the group is the singer from
``id_mapping.txt`` when that file is there, else the song id (both excerpts of a song
stay in one group either way).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import numpy as np

from cantata.audio import info
from cantata.data.labels import ActivityConfig
from cantata.data.records import Example
from cantata.data.sources._files import PathLike, require_dir
from cantata.data.sources.stems import CHANNEL_LAYOUT
from cantata.errors import ConfigError
from cantata.regions import clean_runs, frames_to_segments
from cantata.types import Segment

logger = logging.getLogger(__name__)
DEFAULT_ACTIVITY = ActivityConfig()

SOURCE = "ikala"
LAYOUT = "L=accompaniment,R=vocals"
PITCH_HOP_S = 0.032


def load_ikala(root: PathLike) -> list[Example]:
    """One Example per iKala excerpt, sorted by id.

    Regions: "vocal" where the human pitch annotation is voiced (gaps shorter than
    :class:`ActivityConfig`'s ``min_gap_s`` bridged), when ``PitchLabel/`` has the file;
    ``meta["labels"]`` then says only "vocal" is annotated. ``meta["lyrics"]`` holds
    ``[start_s, end_s, text]`` rows when ``Lyrics/`` has the file.

    Raises:
        ConfigError: no ``Wavfile/`` folder, no WAVs in it, or a malformed label file.
    """
    root = require_dir(root, "iKala")
    wav_dir = require_dir(root / "Wavfile", "iKala Wavfile")
    wavs = sorted(p for p in wav_dir.iterdir() if p.suffix.lower() == ".wav")
    if not wavs:
        raise ConfigError(f"{wav_dir}: no iKala .wav files (expected <song id>_<section>.wav)")
    singers = _singers(root / "id_mapping.txt")
    examples = [_example(wav, root, singers) for wav in wavs]
    logger.info("iKala at %s: %d excerpts", root, len(examples))
    return sorted(examples, key=lambda ex: ex.id)


def _example(wav: Path, root: Path, singers: dict[str, str]) -> Example:
    header = info(wav)
    song_id, _, section = wav.stem.partition("_")
    meta: dict[str, Any] = {CHANNEL_LAYOUT: LAYOUT, "song_id": song_id, "section": section}
    regions: tuple[Segment, ...] = ()
    pitch = root / "PitchLabel" / f"{wav.stem}.pv"
    if pitch.is_file():
        regions = tuple(voiced_regions(pitch, duration_s=header.duration_s))
        meta |= {"labels": ["vocal"], "pitch": str(pitch)}
    lyrics = root / "Lyrics" / f"{wav.stem}.lab"
    if lyrics.is_file():
        meta["lyrics"] = read_lyrics(lyrics)
    return Example(id=f"{SOURCE}/{wav.stem}", audio=str(wav), regions=regions,
                   duration_s=header.duration_s, sample_rate=header.sample_rate,
                   group=singers.get(song_id, song_id), source=SOURCE, meta=meta)


def voiced_regions(path: Path, *, duration_s: float,
                   config: ActivityConfig = DEFAULT_ACTIVITY) -> list[Segment]:
    """"vocal" regions from an iKala ``.pv`` pitch file (MIDI per 32 ms frame, 0 = unvoiced)."""
    try:
        pitch = np.loadtxt(path, ndmin=1)
    except ValueError as err:
        raise ConfigError(f"{path}: not an iKala pitch file ({err})") from err
    voiced = clean_runs(pitch > 0, min_gap_frames=round(config.min_gap_s / PITCH_HOP_S),
                        min_region_frames=round(config.min_region_s / PITCH_HOP_S))
    return frames_to_segments(voiced, hop_s=PITCH_HOP_S, label="vocal", duration_s=duration_s,
                              offset_s=PITCH_HOP_S / 2)  # pitch value i: [i, i + 1) hops


def read_lyrics(path: Path) -> list[list[float | str]]:
    """``[start_s, end_s, text]`` rows from an iKala lyrics file (times in ms)."""
    rows: list[list[float | str]] = []
    with path.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            try:
                rows.append([float(fields[0]) / 1000, float(fields[1]) / 1000,
                             " ".join(fields[2:])])
            except (IndexError, ValueError) as err:
                raise ConfigError(f"{path}:{n}: expected 'start_ms end_ms lyric'") from err
    return rows


def _singers(path: Path) -> dict[str, str]:
    """Song id -> singer from ``id_mapping.txt`` ({} when absent)."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        rows = [row for row in csv.reader(f, delimiter="\t") if len(row) >= 2]
    return {row[1].strip(): row[0].strip() for row in rows if row[0].strip() != "singer"}
