"""Singing-voice (and speech) detection: transfer, post-processing, inference.

``cantata.detect`` is both this package and a function: ``cantata.detect("song.mp3")``
returns the regions of a file or :class:`~cantata.types.Waveform` with the shipped
singing detector (``cantata.detect(src, model="singing-multilabel")`` for the
three-label model). For control, use :class:`VoiceDetector`.
"""

from __future__ import annotations

import sys
import types
from typing import Any


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("VoiceDetector", "FrameProbs", "detect"):
        from cantata.detect import api

        return getattr(api, name)
    raise AttributeError(f"module 'cantata.detect' has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    """Lets the package be called like its :func:`~cantata.detect.api.detect` function."""

    def __call__(self, src: Any, *, model: str = "singing") -> Any:
        from cantata.detect.api import detect

        return detect(src, model=model)


sys.modules[__name__].__class__ = _CallablePackage
