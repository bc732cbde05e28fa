"""Music embeddings: a self-supervised space where close means musically related.

:class:`Embedder` maps segments of audio to vectors (``cantata.embed.api``);
:class:`EmbeddingIndex` finds the catalog's segments nearest a query
(``cantata.embed.index``); the training systems (adversarial DSSM and adversarial
adjacency) live in :mod:`cantata.train.tasks.embedding`.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("Embedder",):
        from cantata.embed import api

        return getattr(api, name)
    if name in ("EmbeddingIndex", "Match", "vary"):
        from cantata.embed import index

        return getattr(index, name)
    raise AttributeError(f"module 'cantata.embed' has no attribute {name!r}")
