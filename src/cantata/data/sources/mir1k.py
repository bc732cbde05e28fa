"""MIR-1K: karaoke clips of Chinese pop songs with the voice on its own channel.

Two layouts, detected automatically:

- stem folders: ``root/**/<singer>_<song>_<clip>/{vocals,accompaniment}.<ext>`` (as in
  the project's developer data): ``stems`` names both files, ``audio`` is None (the
  mixture is their sum);
- original: stereo WAVs ``<singer>_<song>_<clip>.wav`` with LEFT = accompaniment and
  RIGHT = voice, in ``root/Wavfile/`` (searched recursively) when it exists, else anywhere
  under ``root``. ``audio`` is the WAV and ``meta["channel_layout"]`` says which channel
  is which. Only ``Wavfile/`` of a full MIR-1K folder is read: ``UndividedWavfile/``
  repeats the same songs and ``LyricsWav/`` holds speech.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from cantata.audio import info
from cantata.data.records import Example
from cantata.data.sources._files import PathLike, find_stem, is_audio, require_dir
from cantata.data.sources.stems import CHANNEL_LAYOUT, song_regions
from cantata.errors import ConfigError

logger = logging.getLogger(__name__)

SOURCE = "mir1k"
LAYOUT = "L=accompaniment,R=vocals"
CLIP_NAME = re.compile(r"^(?P<singer>[^_\s]+)_(?P<song>[^_\s]+)_(?P<clip>[^_\s]+)$")


def load_mir1k(root: PathLike, *, with_labels: bool = False) -> list[Example]:
    """One Example per MIR-1K clip, sorted by id.

    Args:
        root: a folder of clip folders, the MIR-1K folder (with ``Wavfile/``), or any
            folder of original stereo clip WAVs.
        with_labels: derive vocal / accompaniment / silence regions from the stems
            (decodes every clip; training code can instead label crops on the fly).

    Returns:
        Examples with id ``mir1k/<clip>``, group = singer (name before the first ``_``).

    Raises:
        ConfigError: missing folder, no clips, or an original clip WAV that is not stereo.
    """
    root = require_dir(root, "MIR-1K")
    examples = _stem_folders(root) or _stereo_wavs(root)
    if not examples:
        raise ConfigError(
            f"{root}: no MIR-1K clips found; expected <singer>_<song>_<clip>/ folders holding "
            "vocals.* and accompaniment.*, or stereo <singer>_<song>_<clip>.wav files "
            "(in Wavfile/)")
    if with_labels:
        examples = [replace(ex, regions=song_regions(ex)) for ex in examples]
    logger.info("MIR-1K at %s: %d clips", root, len(examples))
    return sorted(examples, key=lambda ex: ex.id)


def _stem_folders(root: Path) -> list[Example]:
    examples = []
    for vocals in sorted(p for p in root.rglob("vocals.*") if is_audio(p)):
        folder = vocals.parent
        accompaniment = find_stem(folder, "accompaniment")
        if accompaniment is None:
            raise ConfigError(f"{folder}: has {vocals.name} but no accompaniment.* stem")
        headers = [info(vocals), info(accompaniment)]
        examples.append(Example(
            id=f"{SOURCE}/{folder.name}", audio=None,
            stems={"vocals": str(vocals), "accompaniment": str(accompaniment)},
            duration_s=max(h.duration_s for h in headers), sample_rate=headers[0].sample_rate,
            group=folder.name.split("_", 1)[0], source=SOURCE,
        ))
    return examples


def _stereo_wavs(root: Path) -> list[Example]:
    base = root / "Wavfile" if (root / "Wavfile").is_dir() else root
    examples = []
    for wav in sorted(base.rglob("*.[wW][aA][vV]")):
        match = CLIP_NAME.match(wav.stem)
        if not match or not is_audio(wav):
            continue
        header = info(wav)
        if header.n_channels != 2:
            raise ConfigError(f"{wav}: a MIR-1K clip must be stereo ({LAYOUT}), "
                              f"found {header.n_channels} channel(s)")
        examples.append(Example(
            id=f"{SOURCE}/{wav.stem}", audio=str(wav), duration_s=header.duration_s,
            sample_rate=header.sample_rate, group=match["singer"], source=SOURCE,
            meta={CHANNEL_LAYOUT: LAYOUT, "split": _split_of(wav, base)},
        ))
    return examples


def _split_of(wav: Path, base: Path) -> str | None:
    """The sub-folder of ``base`` a clip sits in (e.g. ``train``), None when directly in it."""
    parts = wav.relative_to(base).parts
    return parts[0] if len(parts) > 1 else None
