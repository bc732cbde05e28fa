"""The catalog's records: plain dataclasses, the only shape catalog data takes outside SQL."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cantata.types import Embeddings, Segment


@dataclass(frozen=True)
class FileStat:
    """What decides whether a file changed: size and modification time, then content.

    Attributes:
        path: absolute path of the file.
        size_bytes: file size.
        mtime_ns: modification time, nanoseconds since the epoch.
    """

    path: str
    size_bytes: int
    mtime_ns: int


@dataclass(frozen=True)
class Result:
    """What one analyzer found in one track.

    Attributes:
        analyzer: the analyzer's name, e.g. ``"detect"``.
        analyzer_version: the analyzer code's version (a change invalidates old results).
        model: the model it ran, e.g. ``"singing"``.
        model_version: the model's weights identity, e.g. ``"singing-detector-binary-c9daa24e"``.
        summary: small JSON-ready facts, e.g. ``{"vocal_s": 21.9}``.
        regions: time regions found (detection), in seconds.
        stems: stem name -> file path (separation).
        created_at: ISO 8601 UTC time the result was written ("" before it is stored).
        embeddings: the segments' embeddings (the ``embed`` analyzer), or None. Not part of
            equality (arrays do not compare as one truth value) nor of :meth:`to_dict`, which
            gives their shape only.
    """

    analyzer: str
    analyzer_version: str
    model: str
    model_version: str
    summary: dict[str, Any] = field(default_factory=dict)
    regions: tuple[Segment, ...] = ()
    stems: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    embeddings: Embeddings | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """``analyzer@analyzer_version:model_version``: equal keys mean an up-to-date result."""
        return f"{self.analyzer}@{self.analyzer_version}:{self.model_version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; embeddings as ``{"model_version", "segment_s", "dim", "segments"}``
        (no vectors) or None."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "embeddings"}
        out["summary"] = copy.deepcopy(self.summary)
        out["regions"] = [asdict(r) for r in self.regions]
        out["stems"] = dict(self.stems)
        e = self.embeddings
        out["embeddings"] = None if e is None else {
            "model_version": e.model_version, "segment_s": e.segment_s, "dim": e.dim,
            "segments": len(e)}
        return out


@dataclass(frozen=True)
class Track:
    """One audio file of the library, with what the analyzers found in it.

    Attributes:
        id: the catalog's id for the track.
        path: absolute path of the file.
        content_hash: BLAKE2b-128 of the file's bytes, hex.
        size_bytes, mtime_ns: the file's size and modification time when scanned.
        status: ``"ok"`` or ``"failed"``.
        error: why it failed ("" when ok).
        duration_s, sample_rate, channels, codec, container: the decoded audio's facts
            (None for a file that could not be read).
        loudness_lufs, peak_dbfs: integrated loudness and sample peak (None when silent).
        scan_id: the scan that last wrote it.
        updated_at: ISO 8601 UTC time of that write.
        results: analyzer name -> :class:`Result` (filled by :meth:`Catalog.track`).
    """

    id: int
    path: str
    content_hash: str
    size_bytes: int
    mtime_ns: int
    status: str
    error: str = ""
    duration_s: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    codec: str | None = None
    container: str | None = None
    loudness_lufs: float | None = None
    peak_dbfs: float | None = None
    scan_id: int | None = None
    updated_at: str = ""
    results: dict[str, Result] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "results"}
        out["results"] = {name: r.to_dict() for name, r in self.results.items()}
        return out


@dataclass(frozen=True)
class TrackFacts:
    """What a scan worker measured about a file: everything of :class:`Track` but the ids.

    ``error`` non-empty means the file failed (its audio facts may then be None).
    """

    path: str
    content_hash: str
    size_bytes: int
    mtime_ns: int
    error: str = ""
    duration_s: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    codec: str | None = None
    container: str | None = None
    loudness_lufs: float | None = None
    peak_dbfs: float | None = None


@dataclass(frozen=True)
class ScanRun:
    """One run of ``cantata scan``.

    Attributes:
        id: the catalog's id for the run.
        root: the library folder scanned.
        analyzers: the analyzer specs, e.g. ``("detect=singing", "separate=separator")``.
        backend: ``"local"`` or ``"ray"``.
        jobs: worker count.
        started_at, finished_at: ISO 8601 UTC ("" while running or if it was killed).
        status: ``"running"``, ``"finished"``, ``"interrupted"`` (Ctrl-C) or ``"killed"``
            (found still running by a later scan).
        found, skipped, analyzed, failed: file counts.
    """

    id: int
    root: str
    analyzers: tuple[str, ...]
    backend: str
    jobs: int
    started_at: str
    finished_at: str = ""
    status: str = "running"
    found: int = 0
    skipped: int = 0
    analyzed: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["analyzers"] = list(self.analyzers)
        return out
