"""Singing-voice (and speech) detection: transfer, post-processing, inference.

``cantata.detect`` is both this package and a function: ``cantata.detect("song.mp3")``
returns the regions of a file or :class:`~cantata.types.Waveform` with the shipped
singing detector (``cantata.detect(src, model="singing-multilabel")`` for the
three-label model). For control, use :class:`VoiceDetector`.
"""

from __future__ import annotations

import sys
from typing import Any

from cantata._callable import CallablePackage


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("VoiceDetector", "FrameProbs", "detect"):
        from cantata.detect import api

        return getattr(api, name)
    raise AttributeError(f"module 'cantata.detect' has no attribute {name!r}")


class _Package(CallablePackage):
    FUNCTION = "cantata.detect.api:detect"


sys.modules[__name__].__class__ = _Package
