"""Folders of vocal-only recordings: a cappella stems, clean speech.

They give the separator's vocals pool more voices: each recording is mixed over an
accompaniment of another source, since it has none of its own. Any folder of audio files
(searched recursively) works; the singer or speaker, which validation splits by, is found
as for speech folders (:func:`~cantata.data.sources.librispeech.speaker_of`: TSP's
``FA/FA01_01.flac`` -> ``FA01``, ``alice/take3.wav`` -> ``alice``).
"""

from __future__ import annotations

from dataclasses import replace

from cantata.data.records import Example
from cantata.data.sources._files import PathLike
from cantata.data.sources.librispeech import load_speech_folder


def load_vocals_folder(root: PathLike) -> list[Example]:
    """One Example per recording under ``root``, sorted by id: its only stem is
    ``"vocals"`` (the file), ``audio`` is None, ``source`` is ``"vocals:<root name>"``.

    Raises:
        ConfigError: missing folder or no audio files in it.
    """
    return [replace(ex, audio=None, stems={"vocals": ex.audio}, source=f"vocals:{ex.source}")
            for ex in load_speech_folder(root, kind="vocals")]
