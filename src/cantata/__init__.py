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
    "CantataError": "cantata.errors",
    "load": "cantata.audio",
    "save": "cantata.audio",
    "stream": "cantata.audio",
    "FeatureConfig": "cantata.features",
}
_SUBPACKAGES = ("detect", "separate")  # imported on first use; cantata.detect(path) works

__all__ = ["__version__", *_LAZY, *_SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"cantata.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cantata' has no attribute {name!r}")
