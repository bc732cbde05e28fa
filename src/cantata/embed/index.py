"""A vector index over the catalog's segment embeddings: query by example.

One index per embedder (``model_version``) and metric: FAISS, exact (``IndexFlatL2``) by
default, approximate (HNSW graph) when asked or when it holds more than
:data:`HNSW_ABOVE` vectors. It is saved beside the catalog, in
``<db folder>/<db name>-files/``, as ``index-<model_version>.faiss`` (the FAISS index),
``.npz`` (each row's track id and segment start) and ``.json`` (what it covers: the
catalog's embeddings fingerprint, the kind, the metric, counts), and rebuilt when the
catalog's embeddings of that model changed. The metric is the one the embedder trained
with (:attr:`~cantata.embed.Embedder.similarity`): ``"euclidean"``, or ``"cosine"``, for
which rows and queries are scaled to unit length (Euclidean distance between unit
vectors, ``sqrt(2 - 2 cos)``, ranks as the cosine does).

A search embeds nothing: it takes the query's :class:`~cantata.types.Embeddings`, finds
the nearest catalog segments of every query segment and ranks tracks by their best match.

Example:
    >>> from cantata.catalog import Catalog                          # doctest: +SKIP
    >>> from cantata.embed import Embedder
    >>> embedder = Embedder.from_pretrained("embedder")
    >>> with Catalog("catalog.db") as catalog:
    ...     index = EmbeddingIndex.open(catalog, embedder.model_version)
    ...     for match in index.search(embedder.embed_segments("clip.wav"), k=10):
    ...         print(match.path, match.track_s, match.distance)
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cantata.errors import CantataError, ConfigError, ShapeError
from cantata.files import atomic_output, write_text_atomic
from cantata.types import Embeddings

if TYPE_CHECKING:
    from cantata.catalog import Catalog

log = logging.getLogger(__name__)

KINDS = ("auto", "exact", "hnsw")
METRICS = ("euclidean", "cosine")
#: ``kind="auto"`` switches from exact to HNSW above this many vectors
HNSW_ABOVE = 2_000_000  # exact search of 1M 64-d vectors takes ~30 ms: fine interactively
#: HNSW graph degree, construction and search beam widths (see docs/embeddings.md)
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
#: a search asks each query segment for at least this many neighbours, and more (up to
#: MAX_NEIGHBOURS) while a segment's neighbours cover fewer than k tracks
MIN_NEIGHBOURS = 32
MAX_NEIGHBOURS = 4096
INDEX_FORMAT = 1


class NoEmbeddingsError(CantataError):
    """The catalog holds no embeddings of the requested model."""


@dataclass(frozen=True)
class Match:
    """A catalog track that matches a query.

    Attributes:
        track_id: the catalog's id of the track.
        path: its file ("" for an index without a catalog).
        distance: Euclidean distance between the closest pair of segments (query, track).
        score: ``1 / (1 + distance)``: 1 for an identical segment, towards 0 for far ones.
        track_s: where that track segment starts, seconds into the track.
        query_s: where that query segment starts, seconds into the query.
        hits: how many query segments found this track among their nearest neighbours.
    """

    track_id: int
    path: str
    distance: float
    score: float
    track_s: float
    query_s: float
    hits: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def vary(embeddings: Embeddings, sigma: float = 0.5, n: int = 4, seed: int = 0,
         ) -> list[Embeddings]:
    """``n`` variations of a query: its vectors plus N(0, sigma^2 I) noise (the embedding
    space is trained towards N(0, I), so ``sigma`` is relative to its spread). Searching
    each retrieves material near, not at, the query.

    Raises:
        ConfigError: ``sigma`` not positive or ``n`` below 1.
    """
    if not sigma > 0 or n < 1:
        raise ConfigError(f"variations need sigma > 0 and n >= 1, got sigma={sigma}, n={n}")
    rng = np.random.default_rng(seed)
    return [Embeddings(embeddings.starts_s, embeddings.segment_s,
                       embeddings.vectors + sigma * rng.standard_normal(
                           embeddings.vectors.shape).astype(np.float32),
                       embeddings.model_version) for _ in range(n)]


def choose_kind(kind: str, n_vectors: int) -> str:
    """``"exact"`` or ``"hnsw"`` for ``kind`` (``"auto"``: by size).

    Raises:
        ConfigError: an unknown kind.
    """
    if kind not in KINDS:
        raise ConfigError(f"index kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "auto":
        return "hnsw" if n_vectors > HNSW_ABOVE else "exact"
    return kind


def build_faiss(vectors: np.ndarray, kind: str, *, m: int = HNSW_M,
                ef_construction: int = HNSW_EF_CONSTRUCTION,
                ef_search: int = HNSW_EF_SEARCH) -> Any:
    """A FAISS index of ``vectors`` (n, dim): ``IndexFlatL2`` or ``IndexHNSWFlat``."""
    faiss = _faiss()
    vectors = np.ascontiguousarray(vectors, np.float32)
    dim = vectors.shape[1]
    if kind == "exact":
        index = faiss.IndexFlatL2(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, m)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
    else:
        raise ConfigError(f"index kind must be exact or hnsw, got {kind!r}")
    if len(vectors):
        index.add(vectors)
    return index


class EmbeddingIndex:
    """Nearest segments of one embedder's vectors, each row known by track id and start.

    Build with :meth:`open` (from a catalog, saved beside it) or :meth:`from_arrays`.
    """

    def __init__(self, index: Any, track_ids: np.ndarray, starts_s: np.ndarray, *,
                 model_version: str, segment_s: float, kind: str, metric: str = "euclidean",
                 catalog: Catalog | None = None, info: dict[str, Any] | None = None) -> None:
        self.index = index
        self.track_ids = np.asarray(track_ids, np.int64)
        self.starts_s = np.asarray(starts_s, np.float64)
        if not len(self.track_ids) == len(self.starts_s) == index.ntotal:
            raise ShapeError(f"an index of {index.ntotal} vectors needs as many track ids "
                             f"and starts, got {len(self.track_ids)} and {len(self.starts_s)}")
        self.model_version, self.segment_s, self.kind = model_version, segment_s, kind
        self.metric = _check_metric(metric)
        self.catalog = catalog
        self.info: dict[str, Any] = dict(info or {})
        #: HNSW beam width while searching (at least the neighbours asked for)
        self.ef_search = HNSW_EF_SEARCH

    # --- building ---------------------------------------------------------------------

    @classmethod
    def from_arrays(cls, track_ids: np.ndarray, starts_s: np.ndarray, vectors: np.ndarray,
                    *, kind: str = "auto", metric: str = "euclidean", model_version: str = "",
                    segment_s: float = 0.0, catalog: Catalog | None = None) -> EmbeddingIndex:
        """An in-memory index of the given rows (no files)."""
        vectors = for_metric(np.asarray(vectors, np.float32), _check_metric(metric))
        if vectors.ndim != 2 or len(vectors) != len(track_ids):
            raise ShapeError(f"vectors must be (n, dim) for {len(track_ids)} track ids, got "
                             f"{vectors.shape}")
        kind = choose_kind(kind, len(vectors))
        t0 = time.perf_counter()
        index = build_faiss(vectors, kind)
        info = {"format": INDEX_FORMAT, "model_version": model_version, "kind": kind,
                "metric": metric, "vectors": int(len(vectors)),
                "tracks": int(len(np.unique(track_ids))),
                "dim": int(vectors.shape[1]), "segment_s": segment_s,
                "build_s": round(time.perf_counter() - t0, 3),
                "hnsw": {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION,
                         "ef_search": HNSW_EF_SEARCH} if kind == "hnsw" else None}
        return cls(index, track_ids, starts_s, model_version=model_version,
                   segment_s=segment_s, kind=kind, metric=metric, catalog=catalog, info=info)

    @classmethod
    def open(cls, catalog: Catalog, model_version: str, *, kind: str = "auto",
             metric: str = "euclidean", folder: str | os.PathLike[str] | None = None,
             rebuild: bool = False) -> EmbeddingIndex:
        """The index of the catalog's embeddings of ``model_version`` by ``metric``: loaded
        from ``folder`` (default ``<db folder>/<db name>-files/``) when it is current, else
        built from the catalog and saved there. ``info["rebuilt"]`` says which.

        Raises:
            NoEmbeddingsError: the catalog holds no embeddings of that model.
            ConfigError: an unknown kind or metric.
        """
        _check_metric(metric)
        models = catalog.embedding_models()
        if model_version not in models:
            raise NoEmbeddingsError(_no_embeddings(catalog, model_version, models))
        about = models[model_version]
        want = choose_kind(kind, about["vectors"])
        paths = index_paths(catalog, model_version, folder)
        fingerprint = catalog.embeddings_fingerprint(model_version)
        if not rebuild:
            found = _load(paths, fingerprint, want, metric, catalog)
            if found is not None:
                return found
        if want == "hnsw" and about["vectors"] > HNSW_ABOVE:
            log.warning("building the HNSW index of %d segment embeddings (minutes; it is "
                        "saved for the next search)", about["vectors"])
        t0 = time.perf_counter()
        track_ids, starts, vectors = catalog.embeddings(model_version)
        read_s = time.perf_counter() - t0
        built = cls.from_arrays(track_ids, starts, vectors, kind=want, metric=metric,
                                model_version=model_version, segment_s=about["segment_s"],
                                catalog=catalog)
        built.info.update(fingerprint=fingerprint, read_s=round(read_s, 3),
                          built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        try:
            _save(built, paths)
        except OSError as err:  # a read-only folder: the index still works, unsaved
            log.warning("could not save the index to %s (%s)", paths["faiss"], err)
        built.info.update(rebuilt=True, path=str(paths["faiss"]))
        return built

    # --- searching --------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def nearest(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest rows of each vector: (distances, row numbers), both (m, k);
        rows -1 (distance inf) where the index has fewer. Distances are Euclidean, between
        unit vectors for the cosine metric."""
        vectors = for_metric(np.ascontiguousarray(vectors, np.float32), self.metric)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ShapeError(f"query vectors must be (m, {self.dim}), got {vectors.shape}")
        if len(self) == 0 or k < 1:
            return (np.full((len(vectors), max(k, 0)), np.inf),
                    np.full((len(vectors), max(k, 0)), -1, np.int64))
        if self.kind == "hnsw":  # the beam must be at least k wide
            self.index.hnsw.efSearch = max(self.ef_search, k)
        squared, rows = self.index.search(vectors, k)
        distances = np.sqrt(np.maximum(squared, 0.0))
        distances[rows < 0] = np.inf
        return distances, rows.astype(np.int64)

    def search(self, query: Embeddings, k: int = 10) -> list[Match]:
        """The ``k`` tracks nearest the query, best first: each query segment's nearest
        catalog segments, each track scored by its closest pair.

        With the exact index the ranking is exact: a segment's neighbours are widened until
        they cover ``k`` tracks (or the whole index, or :data:`MAX_NEIGHBOURS`).

        Raises:
            ConfigError: the query comes from another embedder than the index, or k < 1.
            ShapeError: the query's vectors have another size.
        """
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        if query.model_version and self.model_version and \
                query.model_version != self.model_version:
            raise ConfigError(f"the query was embedded with {query.model_version!r} but the "
                              f"index holds {self.model_version!r} embeddings")
        if len(query) == 0 or len(self) == 0:
            return []
        width = min(len(self), max(4 * k, k + MIN_NEIGHBOURS))
        while True:
            distances, rows = self.nearest(query.vectors, width)
            covered = [len(np.unique(self.track_ids[r[r >= 0]])) for r in rows]
            if min(covered) >= k or width >= min(len(self), MAX_NEIGHBOURS):
                break
            width = min(len(self), MAX_NEIGHBOURS, width * 4)
        return self._rank(query, distances, rows, k)

    def _rank(self, query: Embeddings, distances: np.ndarray, rows: np.ndarray,
              k: int) -> list[Match]:
        q_index = np.repeat(np.arange(len(rows)), rows.shape[1])
        rows, distances = rows.ravel(), distances.ravel()
        keep = rows >= 0
        rows, distances, q_index = rows[keep], distances[keep], q_index[keep]
        tracks = self.track_ids[rows]
        order = np.argsort(distances, kind="stable")
        unique_tracks, first = np.unique(tracks[order], return_index=True)
        best = order[first]  # each track's closest pair
        pairs = np.unique(np.stack([tracks, q_index]), axis=1)
        hit_tracks, hit_counts = np.unique(pairs[0], return_counts=True)
        hits = dict(zip(hit_tracks.tolist(), hit_counts.tolist(), strict=True))
        ranked = sorted(zip(unique_tracks.tolist(), best.tolist(), strict=True),
                        key=lambda tb: (distances[tb[1]], -hits[tb[0]], tb[0]))[:k]
        paths = self.catalog.paths([t for t, _ in ranked]) if self.catalog else {}
        return [Match(int(t), paths.get(int(t), ""), float(distances[b]),
                      1.0 / (1.0 + float(distances[b])), float(self.starts_s[rows[b]]),
                      float(query.starts_s[q_index[b]]), int(hits[t]))
                for t, b in ranked]


def index_paths(catalog: Catalog, model_version: str,
                folder: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Where the index of one model lives: ``{"faiss", "rows", "info"}`` paths."""
    if folder is None:
        db = catalog.path.resolve()
        folder = db.with_name(f"{db.stem}-files")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model_version)
    base = Path(folder) / f"index-{safe}"
    return {"faiss": base.with_name(base.name + ".faiss"),
            "rows": base.with_name(base.name + ".npz"),
            "info": base.with_name(base.name + ".json")}


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as err:  # a base dependency; only a broken install lacks it
        raise CantataError("the vector index needs FAISS: pip install faiss-cpu") from err
    return faiss


def _no_embeddings(catalog: Catalog, model_version: str,
                   models: dict[str, dict[str, Any]]) -> str:
    held = "; it holds embeddings of " + ", ".join(
        f"{v} ({m['tracks']} tracks, --model {m['model']})" for v, m in models.items()) \
        if models else ""
    return (f"{catalog.path}: no embeddings of {model_version!r} in the catalog{held} "
            f"(run cantata scan LIBRARY --db {catalog.path} --analyzers embed=MODEL)")


def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    return metric


def for_metric(vectors: np.ndarray, metric: str) -> np.ndarray:
    """The vectors as the index compares them: unit length for the cosine metric."""
    if metric != "cosine" or vectors.ndim != 2:
        return vectors
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), np.float32)


def _load(paths: dict[str, Path], fingerprint: str, kind: str, metric: str,
          catalog: Catalog) -> EmbeddingIndex | None:
    """The saved index when it covers exactly the catalog's current embeddings."""
    try:
        info = json.loads(paths["info"].read_text())
        saved = (info.get("format"), info.get("fingerprint"), info.get("kind"),
                 info.get("metric", "euclidean"))
        if saved != (INDEX_FORMAT, fingerprint, kind, metric):
            return None
        index = _faiss().read_index(str(paths["faiss"]))
        with np.load(paths["rows"]) as rows:
            track_ids, starts = rows["track_ids"], rows["starts_s"]
        if index.ntotal != info["vectors"] or len(track_ids) != index.ntotal:
            return None
    except Exception as err:  # missing, partial or foreign files: build afresh
        log.info("rebuilding the index %s (%s)", paths["faiss"], err)
        return None
    if kind == "hnsw":
        index.hnsw.efSearch = HNSW_EF_SEARCH
    found = EmbeddingIndex(index, track_ids, starts, model_version=info["model_version"],
                           segment_s=info["segment_s"], kind=kind, metric=metric,
                           catalog=catalog, info=info)
    found.info.update(rebuilt=False, path=str(paths["faiss"]))
    return found


def _save(built: EmbeddingIndex, paths: dict[str, Path]) -> None:
    """Rows, then the index, then the JSON that vouches for both (written last, so a
    save cut short leaves a stale fingerprint and a rebuild, never a wrong index)."""
    with atomic_output(paths["rows"], overwrite=True) as tmp, tmp.open("wb") as f:
        np.savez(f, track_ids=built.track_ids, starts_s=built.starts_s)
    with atomic_output(paths["faiss"], overwrite=True) as tmp:
        _faiss().write_index(built.index, str(tmp))
    write_text_atomic(paths["info"], json.dumps(built.info, indent=2), overwrite=True)


__all__ = ["HNSW_ABOVE", "KINDS", "METRICS", "EmbeddingIndex", "Match", "NoEmbeddingsError",
           "build_faiss", "choose_kind", "for_metric", "index_paths", "vary"]
