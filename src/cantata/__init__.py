"""Cantata: turn a music catalog into an AI-indexed library.

Importing the package is cheap and has no side effects; the capability APIs are
imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from cantata._version import __version__

_LAZY = {
    "Waveform": "cantata.types",
    "Segment": "cantata.types",
    "Stems": "cantata.types",
    "Embeddings": "cantata.types",
    "CantataError": "cantata.errors",
    "load": "cantata.audio",
    "save": "cantata.audio",
    "stream": "cantata.audio",
    "FeatureConfig": "cantata.features",
    "align_lyrics": "cantata.lyrics.api",
}
#: imported on first use; each is also its function: cantata.detect(y, sr=sr), help() shows it
_SUBPACKAGES = ("detect", "separate", "embed", "tag", "restore")

__all__ = ["__version__", *_LAZY, *_SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"cantata.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cantata' has no attribute {name!r}")
