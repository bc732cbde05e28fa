"""Music embeddings: a self-supervised space where close means musically related.

``cantata.embed`` is both this package and a function: ``cantata.embed(y, sr=sr)`` embeds
the segments of a file, a Waveform or an array with the shipped embedder.
:class:`Embedder` maps segments of audio to vectors (``cantata.embed.api``);
:class:`EmbeddingIndex` finds the catalog's segments nearest a query
(``cantata.embed.index``); the training systems (adversarial DSSM and adversarial
adjacency) live in :mod:`cantata.train.tasks.embedding`.
"""

from __future__ import annotations

import sys
from typing import Any

from cantata._callable import CallablePackage


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("Embedder", "embed"):
        from cantata.embed import api

        return getattr(api, name)
    if name in ("EmbeddingIndex", "Match", "vary"):
        from cantata.embed import index

        return getattr(index, name)
    raise AttributeError(f"module 'cantata.embed' has no attribute {name!r}")


class _Package(CallablePackage):
    FUNCTION = "cantata.embed.api:embed"


sys.modules[__name__].__class__ = _Package
