"""Vocal / accompaniment separation: masks, the model wrapper, inference and evaluation.

``cantata.separate`` is both this package and a function: ``cantata.separate("song.mp3")``
returns the :class:`~cantata.types.Stems` of a file or :class:`~cantata.types.Waveform`
with the shipped separator. For control (a folder with one model load, files, gating),
use :class:`Separator`. Importing this package is cheap; the modules are
:mod:`~cantata.models.masks` (pure mask functions), :mod:`~cantata.separate.spectral`
(one window of audio at any rate), :mod:`~cantata.separate.api` (long audio in
overlapping windows by :mod:`cantata.engine.overlap_add`), :mod:`~cantata.separate.gating`,
:mod:`~cantata.separate.metrics` and :mod:`~cantata.separate.baselines`.
"""

from __future__ import annotations

import sys
from typing import Any

from cantata._callable import CallablePackage


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("Separator", "StemFiles", "separate"):
        from cantata.separate import api

        return getattr(api, name)
    raise AttributeError(f"module 'cantata.separate' has no attribute {name!r}")


class _Package(CallablePackage):
    FUNCTION = "cantata.separate.api:separate"


sys.modules[__name__].__class__ = _Package
