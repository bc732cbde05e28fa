"""Loaders for data users own, in the formats the field uses.

Each loader returns a sorted ``list[Example]`` and raises
:class:`~cantata.errors.ConfigError` naming the path when the layout is wrong;
:func:`read_stems` gives the vocals and accompaniment of any of these Examples.
"""

from cantata.data.sources.defect_labels import load_weak_labels
from cantata.data.sources.ikala import load_ikala
from cantata.data.sources.instrumentals import (
    INSTRUMENTAL_PACKAGES,
    load_instrumentals,
    split_benchmark,
)
from cantata.data.sources.jamendo import load_jamendo
from cantata.data.sources.librispeech import load_speech_folder
from cantata.data.sources.manifest_csv import load_label_manifest
from cantata.data.sources.mir1k import load_mir1k
from cantata.data.sources.musdb import load_musdb
from cantata.data.sources.stems import has_stem, read_stem, read_stems
from cantata.data.sources.vocals import load_vocals_folder

__all__ = [
    "INSTRUMENTAL_PACKAGES", "has_stem", "load_ikala", "load_instrumentals", "load_jamendo",
    "load_label_manifest", "load_mir1k", "load_musdb", "load_speech_folder",
    "load_vocals_folder", "load_weak_labels", "read_stem", "read_stems", "split_benchmark",
]
