"""Query by example over a catalog: the steps ``cantata search`` and ``POST /v1/search`` share
(pick the catalog's embedder, embed the clip, open the index, rank), and the tracks nearest a
catalog track by its stored embeddings (``GET /v1/tracks/{id}/similar``)."""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cantata.errors import CantataError
from cantata.types import Embeddings, Source, Waveform

if TYPE_CHECKING:
    from cantata.catalog import Catalog
    from cantata.embed.api import Embedder
    from cantata.embed.index import EmbeddingIndex, Match


@dataclass
class ClipSearch:
    """What :func:`search_clip` found, and with what."""

    embedder: Embedder
    model_version: str
    query: Embeddings
    index: EmbeddingIndex
    matches: list[Match]


_HELD: dict[tuple[str, str, str, str], EmbeddingIndex] = {}
_HELD_LOCK = threading.Lock()


def no_embeddings_hint(db: object) -> str:
    return (f"{db}: the catalog holds no embeddings (run cantata scan LIBRARY --db {db} "
            f"--analyzers embed)")


def catalog_embedder(catalog: Catalog, model: str | None = None) -> tuple[Embedder, str]:
    """(embedder, model_version): the one asked for, else the one that made most of the
    catalog's embeddings (loaded once per process).

    Raises:
        NoEmbeddingsError: the catalog holds no embeddings (of the model asked for).
    """
    from cantata.embed.api import _cached
    from cantata.embed.index import EmbeddingIndex, NoEmbeddingsError

    models = catalog.embedding_models()
    if not models:
        raise NoEmbeddingsError(no_embeddings_hint(catalog.path))
    if model:
        embedder = _cached(model)
        if embedder.model_version not in models:
            EmbeddingIndex.open(catalog, embedder.model_version)  # raises, naming what it holds
        return embedder, embedder.model_version
    version, about = next(iter(models.items()))
    embedder = _cached(about["model"])
    if embedder.model_version != version:
        raise CantataError(f"the catalog's embeddings were made with {version!r}, but "
                           f"{about['model']!r} now loads {embedder.model_version!r}: re-scan "
                           f"with --analyzers embed, or pass --model")
    return embedder, version


def clip(source: Source, start: float = 0.0, duration: float | None = None) -> Source:
    """The query, or the part of it from ``start`` for ``duration`` seconds.

    Raises:
        CantataError: ``start`` negative, ``duration`` not positive, or nothing left.
    """
    if start < 0 or (duration is not None and not duration > 0):
        raise CantataError("start must be >= 0 and duration positive")
    if not start and duration is None:
        return source
    if isinstance(source, Waveform):
        first = round(start * source.sample_rate)
        last = None if duration is None else first + round(duration * source.sample_rate)
        if first >= source.samples.shape[-1]:
            raise CantataError(f"start {start:g} s is past the clip's end "
                               f"({source.duration_s:.1f} s)")
        return Waveform(np.ascontiguousarray(source.samples[:, first:last]), source.sample_rate)
    from cantata import audio

    return audio.load(source, offset_s=start, duration_s=duration)


def open_index(catalog: Catalog, model_version: str, *, kind: str = "auto",
               metric: str = "euclidean", rebuild: bool = False,
               keep: bool = False) -> EmbeddingIndex:
    """:meth:`EmbeddingIndex.open`; with ``keep``, held in memory for the next call (a
    server's) while the catalog's embeddings of that model are unchanged."""
    from cantata.embed.index import EmbeddingIndex

    if not keep:
        return EmbeddingIndex.open(catalog, model_version, kind=kind, metric=metric,
                                   rebuild=rebuild)
    key = (str(catalog.path.resolve()), model_version, kind, metric)
    fingerprint = catalog.embeddings_fingerprint(model_version)
    with _HELD_LOCK:
        held = _HELD.get(key)
    if rebuild or held is None or held.info.get("fingerprint") != fingerprint:
        held = EmbeddingIndex.open(catalog, model_version, kind=kind, metric=metric,
                                   rebuild=rebuild)
        with _HELD_LOCK:
            _HELD[key] = held
    mine = copy.copy(held)  # shares the FAISS index; reads paths through this catalog
    mine.catalog = catalog
    return mine


def search_clip(catalog: Catalog, source: Source, *, k: int = 10, model: str | None = None,
                hop_s: float | None = None, kind: str = "auto", rebuild: bool = False,
                seconds: dict[str, float] | None = None, keep: bool = False) -> ClipSearch:
    """The ``k`` catalog tracks nearest a clip, best first, with where each matches;
    ``seconds`` (when given) gets the time of each step (embed, index, search); ``keep``:
    see :func:`open_index`."""
    seconds = {} if seconds is None else seconds
    t0 = time.perf_counter()
    embedder, version = catalog_embedder(catalog, model)
    query = embedder.embed_segments(source, hop_s=hop_s or embedder.segment_s / 4)
    seconds["embed"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = open_index(catalog, version, kind=kind, metric=embedder.similarity,
                       rebuild=rebuild, keep=keep)
    seconds["index"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    matches = index.search(query, k=k)
    seconds["search"] = time.perf_counter() - t0
    return ClipSearch(embedder, version, query, index, matches)


def similar_tracks(catalog: Catalog, track_id: int, *, k: int = 10,
                   passage: tuple[float, float] | None = None,
                   keep: bool = False) -> list[Match]:
    """The ``k`` other tracks nearest a catalog track, by its segments' stored vectors
    (read back from the index, not the catalog's every embedding), or by those of the
    segments overlapping ``passage`` (start, end seconds); ``keep``: see :func:`open_index`.

    Raises:
        NoEmbeddingsError: the catalog holds no embeddings.
        CantataError: the track has no embeddings.
    """
    from cantata.embed.index import NoEmbeddingsError

    models = catalog.embedding_models()
    if not models:
        raise NoEmbeddingsError(no_embeddings_hint(catalog.path))
    version = next(iter(models))
    index = open_index(catalog, version, metric=_metric_of(catalog, version), keep=keep)
    rows = np.flatnonzero(index.track_ids == track_id)
    if not len(rows):
        raise CantataError(f"track {track_id} has no {version!r} embeddings (re-scan it with "
                           f"--analyzers embed)")
    if passage is not None:
        start, end = passage
        starts = index.starts_s[rows]
        rows = rows[(starts < end) & (starts + index.segment_s > start)]
        if not len(rows):
            raise CantataError(f"track {track_id} has no segment between {start:g} and "
                               f"{end:g} s")
    vectors = index.index.reconstruct_batch(rows.astype(np.int64))
    query = Embeddings(index.starts_s[rows], index.segment_s, vectors, version)
    return [m for m in index.search(query, k=k + 1) if m.track_id != track_id][:k]


def _metric_of(catalog: Catalog, version: str) -> str:
    """The metric the saved index of ``version`` was built with, else the embedder's."""
    from cantata.embed.index import index_paths

    try:
        saved: Any = json.loads(index_paths(catalog, version)["info"].read_text())
        return str(saved["metric"])
    except (OSError, ValueError, KeyError, TypeError):
        return catalog_embedder(catalog)[0].similarity
