"""The catalog's records: plain dataclasses, the only shape catalog data takes outside SQL."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cantata.analyzers.base import Result

__all__ = ["FileStat", "Result", "ScanRun", "Track", "TrackFacts"]


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
        truncated: the file holds less audio than its header declares (cut short).
        scan_id: the scan that last wrote it.
        updated_at: ISO 8601 UTC time of that write.
        results: analyzer name -> :class:`Result` (filled by :meth:`Catalog.track`).
        missing: the file was not found by the last scan of its folder (the track and its
            results are kept until ``cantata catalog prune``).
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
    truncated: bool = False
    scan_id: int | None = None
    updated_at: str = ""
    results: dict[str, Result] = field(default_factory=dict)
    missing: bool = False

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
    truncated: bool = False


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
