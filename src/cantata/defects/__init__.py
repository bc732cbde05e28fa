"""Defect detection: clicks, dropouts, clipping, codec damage and the like, as timed events.

A CRNN trained from weak clip labels (multiple-instance learning) gives frame
probabilities per defect type; :mod:`cantata.defects.postprocess` fuses them into events
and a song verdict. Load a model with :class:`DefectDetector`.

:data:`DEFECT_TYPES` (defined in :mod:`cantata.data.labels`, so that the training material
below this layer can use it) names the types in the order of the network's outputs.
"""

from __future__ import annotations

from typing import Any

from cantata.data.labels import DEFECT_TYPES

__all__ = ["DEFECT_TYPES", "DefectDetector", "DefectReport"]


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("DefectDetector", "DefectReport"):
        from cantata.defects import api

        return getattr(api, name)
    raise AttributeError(f"module 'cantata.defects' has no attribute {name!r}")
