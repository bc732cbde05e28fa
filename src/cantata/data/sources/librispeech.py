"""Folders of speech recordings: LibriSpeech, and any folder that names its speakers.

LibriSpeech layout: ``root/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` with one
``<speaker>-<chapter>.trans.txt`` per chapter (lines ``<utterance id> <TEXT>``).

Generic fallback, for any folder of audio files (searched recursively): the speaker is
the file-name prefix before the first ``_`` or ``-`` when the name has one (TSP's
``FA/FA01_01.flac`` -> ``FA01``, LibriSpeech's ``198-209-0000.ogg`` -> ``198``), else the
first folder below ``root`` (``alice/001.wav`` -> ``alice``), else the file name.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from cantata.audio import info, load
from cantata.data.labels import ActivityConfig, stem_activity
from cantata.data.records import Example
from cantata.data.sources._files import PathLike, audio_files, base_name, relative_id, require_dir
from cantata.errors import ConfigError
from cantata.regions import frames_to_segments
from cantata.types import Segment

logger = logging.getLogger(__name__)
DEFAULT_ACTIVITY = ActivityConfig()

SPEAKER_SEPARATOR = re.compile(r"[_-]")


def load_speech_folder(root: PathLike, *, with_labels: bool = False,
                       activity: ActivityConfig = DEFAULT_ACTIVITY,
                       kind: str = "speech") -> list[Example]:
    """One Example per speech recording under ``root``, sorted by id.

    Args:
        root: a LibriSpeech folder, or any folder of speech recordings.
        with_labels: add "speech" regions from the recording's energy
            (:func:`~cantata.data.labels.stem_activity`; decodes every file).
        activity: thresholds for ``with_labels``.
        kind: what the folder holds, for error messages.

    Returns:
        Examples with id ``<root name>/<relative path without suffix>``, group = speaker,
        source = the root folder's name, ``meta["text"]`` when a ``.trans.txt`` has it.

    Raises:
        ConfigError: missing folder or no audio files in it.
    """
    root = require_dir(root, kind)
    files = audio_files(root)
    if not files:
        raise ConfigError(f"{root}: no audio files found in the {kind} folder")
    texts = transcripts(root)
    examples = []
    for path in files:
        header = info(path)
        text = texts.get(base_name(path))
        examples.append(Example(
            id=f"{root.name}/{relative_id(path, root)}", audio=str(path),
            regions=tuple(speech_regions(path, activity)) if with_labels else (),
            duration_s=header.duration_s, sample_rate=header.sample_rate,
            group=speaker_of(path, root), source=root.name,
            meta={"text": text} if text is not None else {},
        ))
    logger.info("%s at %s: %d files, %d speakers", kind, root, len(examples),
                len({ex.group for ex in examples}))
    return sorted(examples, key=lambda ex: ex.id)


def speaker_of(path: Path, root: Path) -> str:
    """The speaker of a recording (see the module docstring for the rule)."""
    name = base_name(path)
    if SPEAKER_SEPARATOR.search(name):
        return SPEAKER_SEPARATOR.split(name, maxsplit=1)[0]
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else name


def transcripts(root: Path) -> dict[str, str]:
    """Utterance id -> text from every LibriSpeech ``*.trans.txt`` under ``root``."""
    texts = {}
    for path in sorted(root.rglob("*.trans.txt")):
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                utterance, _, text = line.strip().partition(" ")
                if utterance and text:
                    texts[utterance] = text
    return texts


def speech_regions(path: Path, activity: ActivityConfig = DEFAULT_ACTIVITY) -> list[Segment]:
    """"speech" regions where a clean recording's level is active."""
    wav = load(path)
    return frames_to_segments(stem_activity(wav, activity), hop_s=activity.hop_s, label="speech",
                              duration_s=wav.duration_s)
