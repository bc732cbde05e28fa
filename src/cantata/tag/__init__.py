"""Music tagging: genre, mood, instrument and voice tags, one binary classifier per tag.

``cantata.tag`` is both this package and a function: ``cantata.tag(y, sr=sr)`` tags a
file, a Waveform or an array. :class:`Tagger` loads a tagger and pools its chunk scores
over a song (``cantata.tag.api``); the thresholds and metrics are pure functions
(``cantata.tag.postprocess``); ``cantata.tag.labels`` reads labels files (CSV, JSONL,
MagnaTagATune, MTG-Jamendo) for training.
"""

from __future__ import annotations

import sys
from typing import Any

from cantata._callable import CallablePackage


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("Tagger", "tag"):
        from cantata.tag import api

        return getattr(api, name)
    if name == "TagScores":
        from cantata.tag import postprocess

        return postprocess.TagScores
    raise AttributeError(f"module 'cantata.tag' has no attribute {name!r}")


class _Package(CallablePackage):
    FUNCTION = "cantata.tag.api:tag"


sys.modules[__name__].__class__ = _Package
