"""The catalog: one SQLite file, no server. The only module of Cantata that speaks SQL."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from cantata.assess.grade import DEFECTS_GRADE
from cantata.catalog.records import FileStat, Result, ScanRun, Track, TrackFacts
from cantata.catalog.schema import CatalogSchemaError, check_catalog, check_readable, migrate
from cantata.errors import CantataError
from cantata.types import Embeddings, Segment

PathLike = str | os.PathLike[str]
_Method = TypeVar("_Method", bound=Callable[..., Any])
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26

#: ``Catalog.tracks(sort=...)`` accepts these columns (``quality``: the ``assess`` grade, A
#: first, tracks without one last).
SORT_COLUMNS = ("id", "path", "duration_s", "loudness_lufs", "updated_at", "status",
                "quality", "vocal_s", "stems", "tags")
#: the assess findings ``TrackFilter.quality`` takes, as conditions on the result's summary
#: ``r.summary`` (schema migration 5 keeps them as labels): a lossy file saved as lossless,
#: clipped runs, and louder than the streaming target (-14 LUFS) by more than its 1 LU
#: tolerance
QUALITY_FILTERS = {
    "transcoded": "json_extract(r.summary, '$.lossy.transcoded') = 1",
    "clipped": "json_extract(r.summary, '$.clipping.runs') > 0",
    "too_loud": "json_extract(r.summary, '$.loudness.targets.streaming.gain_db') < -1.0",
}

_TRACK_COLUMNS = ("id", "path", "content_hash", "size_bytes", "mtime_ns", "status", "error",
                  "duration_s", "sample_rate", "channels", "codec", "container",
                  "loudness_lufs", "peak_dbfs", "truncated", "scan_id", "updated_at",
                  "missing")
_FACT_COLUMNS = ("content_hash", "size_bytes", "mtime_ns", "duration_s", "sample_rate",
                 "channels", "codec", "container", "loudness_lufs", "peak_dbfs", "truncated")


class CatalogNotFoundError(CantataError):
    """A catalog opened for reading does not exist."""


class CatalogDamagedError(CantataError):
    """SQLite finds the catalog file damaged (a malformed page)."""


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _prepare(conn: sqlite3.Connection, path: str, *, create: bool) -> int:
    """Check the database is a catalog; with ``create``, switch it to WAL and migrate it."""
    if not create:
        return check_readable(conn, path)
    check_catalog(conn, path)  # before anything is written: a foreign file stays as it is
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return migrate(conn, path)


def _is_damage(err: sqlite3.DatabaseError) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB (and their extended codes)."""
    return (getattr(err, "sqlite_errorcode", 0) & 0xFF) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _damaged(path: Path, err: sqlite3.DatabaseError) -> CatalogDamagedError:
    return CatalogDamagedError(f"{path}: the catalog is damaged ({err}); cantata catalog check "
                               f"--db {path} says where")


def _refusal(path: Path, err: sqlite3.DatabaseError) -> CantataError:
    """What opening ``path`` failed with, as one line."""
    if getattr(err, "sqlite_errorcode", 0) & 0xFF == _SQLITE_NOTADB:
        return CatalogSchemaError(f"{path} is not a Cantata catalog")
    if _is_damage(err):
        return _damaged(path, err)
    return CatalogSchemaError(f"{path}: cannot open the catalog ({err})")


def _checked(method: _Method) -> _Method:
    """A :class:`Catalog` method whose SQLite corruption errors become one clear
    :class:`CatalogDamagedError`."""

    @functools.wraps(method)
    def checked(self: Catalog, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as err:
            if not _is_damage(err):
                raise
            raise _damaged(self.path, err) from err

    return cast(_Method, checked)


def integrity_check(path: PathLike) -> list[str]:
    """SQLite's ``PRAGMA integrity_check`` of a catalog: ``["ok"]``, or what is damaged.

    Raises:
        CatalogNotFoundError: there is no file.
        CatalogSchemaError: the file is not a catalog.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogNotFoundError(f"{path}: no catalog here (run cantata scan first)")
    conn = _connect(path)
    try:
        check_catalog(conn, str(path))
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as err:
        if not _is_damage(err) or err.sqlite_errorcode & 0xFF == _SQLITE_NOTADB:
            raise _refusal(path, err) from err
        return [str(err)]
    finally:
        conn.close()


@dataclass(frozen=True)
class KnownFile:
    """What the catalog remembers of a file, enough to decide what a scan must redo.

    Attributes:
        stat: size and modification time when last scanned.
        content_hash: BLAKE2b-128 of its bytes then.
        status: ``"ok"`` or ``"failed"``.
        result_keys: :attr:`Result.key` of every stored result.
        missing: the file was gone at the last scan of its folder.
    """

    stat: FileStat
    content_hash: str
    status: str
    result_keys: frozenset[str]
    missing: bool = False


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Catalog:
    """An embedded catalog of tracks and analyzer results in one SQLite file.

    Every write is one transaction: a process killed at any moment leaves each track
    either fully written (its facts and all its results) or as it was before.

    Example:
        >>> with Catalog("catalog.db") as catalog:                       # doctest: +SKIP
        ...     for track in catalog.tracks(search="fishin"):
        ...         print(track.path, catalog.track(track.id).results["detect"].regions)
    """

    def __init__(self, path: PathLike, *, create: bool = True) -> None:
        """Open the catalog at ``path``; with ``create``, create or migrate it (``cantata
        scan``), else use it as it is (read-only commands: nothing is written on opening).

        Raises:
            CatalogNotFoundError: ``create`` is false and there is no file.
            CatalogSchemaError: the file is not a catalog, a newer Cantata wrote it, or
                (without ``create``) it needs migrating.
            CatalogDamagedError: SQLite finds the file damaged.
        """
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise CatalogNotFoundError(f"{self.path}: no catalog here (run cantata scan first)")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = _connect(self.path)
            self.schema_found = _prepare(self._conn, str(self.path), create=create)
        except sqlite3.DatabaseError as err:
            raise _refusal(self.path, err) from err

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # --- scans ------------------------------------------------------------------------

    @_checked
    def start_scan(self, root: PathLike, analyzers: Sequence[str], *, backend: str,
                   jobs: int) -> ScanRun:
        """Record the start of a scan."""
        with self._transaction() as db:
            cur = db.execute("INSERT INTO scans (root, analyzers, backend, jobs, started_at) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (os.fspath(root), json.dumps(list(analyzers)), backend, jobs,
                              now()))
        return self.scan(int(cur.lastrowid))

    @_checked
    def finish_scan(self, scan_id: int, *, status: str, found: int, skipped: int) -> ScanRun:
        """Record how a scan ended (``analyzed`` and ``failed`` count themselves)."""
        with self._transaction() as db:
            db.execute("UPDATE scans SET finished_at = ?, status = ?, found = ?, skipped = ? "
                       "WHERE id = ?", (now(), status, found, skipped, scan_id))
        return self.scan(scan_id)

    @_checked
    def close_stale_scans(self) -> int:
        """Mark scans still ``running`` as ``killed``: call while holding the scan lock, when
        no scan can be running. Returns how many there were."""
        with self._transaction() as db:
            return db.execute("UPDATE scans SET status = 'killed' WHERE status = 'running'"
                              ).rowcount

    @_checked
    def scan(self, scan_id: int) -> ScanRun:
        row = self._conn.execute("SELECT * FROM scans WHERE id = ?", (scan_id,)).fetchone()
        if row is None:
            raise CantataError(f"{self.path}: no scan {scan_id}")
        return _scan_record(row)

    @_checked
    def scans(self) -> list[ScanRun]:
        """Every scan, oldest first."""
        return [_scan_record(r) for r in self._conn.execute("SELECT * FROM scans ORDER BY id")]

    # --- writing tracks ---------------------------------------------------------------

    @_checked
    def known_files(self) -> dict[str, KnownFile]:
        """path -> :class:`KnownFile` for every track: what a scan plans from."""
        keys: dict[int, set[str]] = {}
        for row in self._conn.execute("SELECT track_id, analyzer, analyzer_version, "
                                      "model_version FROM results"):
            keys.setdefault(row[0], set()).add(f"{row[1]}@{row[2]}:{row[3]}")
        return {row["path"]: KnownFile(FileStat(row["path"], row["size_bytes"], row["mtime_ns"]),
                                       row["content_hash"], row["status"],
                                       frozenset(keys.get(row["id"], ())), bool(row["missing"]))
                for row in self._conn.execute("SELECT id, path, size_bytes, mtime_ns, "
                                              "content_hash, status, missing FROM tracks")}

    @_checked
    def write_track(self, facts: TrackFacts, results: Sequence[Result] = (), *,
                    scan_id: int | None = None) -> int:
        """Insert or update a track and replace the given analyzers' results, atomically.

        A changed content hash or a failure drops the track's older results (they describe
        other audio); results of analyzers not in ``results`` are kept otherwise.

        Returns:
            the track's id.
        """
        stamp = now()
        status = "failed" if facts.error else "ok"
        with self._transaction() as db:
            row = db.execute("SELECT id, content_hash FROM tracks WHERE path = ?",
                             (facts.path,)).fetchone()
            values = [getattr(facts, c) for c in _FACT_COLUMNS]
            if row is None:
                cur = db.execute(
                    f"INSERT INTO tracks (path, status, error, scan_id, updated_at, "
                    f"{', '.join(_FACT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, "
                    f"{', '.join('?' * len(_FACT_COLUMNS))})",
                    (facts.path, status, facts.error, scan_id, stamp, *values))
                track_id = int(cur.lastrowid)
            else:
                track_id = int(row["id"])
                if row["content_hash"] != facts.content_hash or facts.error:
                    db.execute("DELETE FROM results WHERE track_id = ?", (track_id,))
                    _underive(db, track_id, *_DERIVED)
                db.execute(
                    f"UPDATE tracks SET status = ?, error = ?, scan_id = ?, updated_at = ?, "
                    f"missing = 0, "
                    f"{', '.join(f'{c} = ?' for c in _FACT_COLUMNS)} WHERE id = ?",
                    (status, facts.error, scan_id, stamp, *values, track_id))
            for result in results:
                _insert_result(db, track_id, result, stamp)
            if scan_id is not None:
                column = "failed" if facts.error else "analyzed"
                db.execute(f"UPDATE scans SET {column} = {column} + 1 WHERE id = ?", (scan_id,))
        return track_id

    @_checked
    def touch(self, stat: FileStat) -> None:
        """A file's size or time changed but not its content: remember the new stat."""
        with self._transaction() as db:
            db.execute("UPDATE tracks SET size_bytes = ?, mtime_ns = ? WHERE path = ?",
                       (stat.size_bytes, stat.mtime_ns, stat.path))

    @_checked
    def move(self, old_path: str, stat: FileStat, *, scan_id: int | None = None) -> None:
        """The file of the track at ``old_path`` is now ``stat.path`` (same content): the
        track, its id and its results follow it."""
        with self._transaction() as db:
            db.execute("UPDATE tracks SET path = ?, size_bytes = ?, mtime_ns = ?, missing = 0, "
                       "scan_id = ?, updated_at = ? WHERE path = ?",
                       (stat.path, stat.size_bytes, stat.mtime_ns, scan_id, now(), old_path))

    @_checked
    def set_missing(self, paths: Sequence[str], missing: bool = True) -> int:
        """Flag the tracks at ``paths`` as missing (their file is gone), or as found again.
        Returns how many changed."""
        changed = 0
        with self._transaction() as db:
            for chunk in _chunks(list(paths), 900):
                changed += db.execute(
                    f"UPDATE tracks SET missing = ? WHERE missing != ? AND path IN "
                    f"({','.join('?' * len(chunk))})", (int(missing), int(missing), *chunk)
                ).rowcount
        return changed

    @_checked
    def prune_missing(self) -> tuple[int, list[str]]:
        """Delete every missing track with its results, in one transaction.

        Returns:
            how many tracks, and the paths of their stem files that no remaining track
            shares (the caller may delete those files).
        """
        with self._transaction() as db:
            stems = {r[0] for r in db.execute(
                "SELECT s.path FROM stems s JOIN results r ON r.id = s.result_id "
                "JOIN tracks t ON t.id = r.track_id WHERE t.missing = 1")}
            n = db.execute("DELETE FROM tracks WHERE missing = 1").rowcount
            for chunk in _chunks(sorted(stems), 900):
                stems -= {r[0] for r in db.execute(
                    f"SELECT path FROM stems WHERE path IN ({','.join('?' * len(chunk))})",
                    chunk)}
        return n, sorted(stems)

    @_checked
    def remove(self, track_id: int) -> None:
        """Forget a track and its results (its stem files stay on disk)."""
        with self._transaction() as db:
            db.execute("DELETE FROM tracks WHERE id = ?", (track_id,))

    # --- reading ----------------------------------------------------------------------

    @_checked
    def track(self, id_or_path: int | PathLike) -> Track | None:
        """A track with all its results, by id or by path (None when unknown)."""
        if isinstance(id_or_path, int):
            row = self._conn.execute("SELECT * FROM tracks WHERE id = ?",
                                     (id_or_path,)).fetchone()
        else:
            path = os.path.abspath(os.fspath(id_or_path))
            row = self._conn.execute("SELECT * FROM tracks WHERE path = ?", (path,)).fetchone()
        if row is None:
            return None
        return _track_record(row, self._results([int(row["id"])]).get(int(row["id"]), {}))

    @_checked
    def tracks(self, *, sort: str = "path", descending: bool = False,
               limit: int | None = None, offset: int = 0, with_results: bool = False,
               **criteria: Any) -> list[Track]:
        """Tracks matching ``criteria`` (the fields of :class:`TrackFilter`: by default
        every track whose file is there), sorted by one of :data:`SORT_COLUMNS`, paged.

        Raises:
            CantataError: ``sort`` is not one of :data:`SORT_COLUMNS`, or a criterion is
                not valid.
        """
        if sort not in SORT_COLUMNS:
            raise CantataError(f"cannot sort by {sort!r}; choose from {', '.join(SORT_COLUMNS)}")
        where, params = TrackFilter(**criteria).where()
        order = _DERIVED_ORDER.get(sort, sort)
        ids = [r[0] for r in self._conn.execute(  # the page's ids first: an index can cover it
            f"SELECT id FROM tracks{where} ORDER BY {order} {'DESC' if descending else 'ASC'}, "
            f"id LIMIT ? OFFSET ?", (*params, -1 if limit is None else limit, offset))]
        found: dict[int, sqlite3.Row] = {}
        for chunk in _chunks(ids, 900):
            found.update((r["id"], r) for r in self._conn.execute(
                f"SELECT * FROM tracks WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        rows = [found[i] for i in ids]
        results = self._results([int(r["id"]) for r in rows]) if with_results else {}
        return [_track_record(r, results.get(int(r["id"]), {})) for r in rows]

    @_checked
    def count(self, **criteria: Any) -> int:
        """How many :meth:`tracks` match (``criteria``: the fields of :class:`TrackFilter`)."""
        where, params = TrackFilter(**criteria).where()
        return int(self._conn.execute(f"SELECT COUNT(*) FROM tracks{where}",
                                      params).fetchone()[0])

    @_checked
    def tag_counts(self, **criteria: Any) -> dict[str, int]:
        """tag -> how many of the tracks :meth:`tracks` would list (same ``criteria``) have
        it present in their ``tag`` result; most frequent first, then by name."""
        return self._label_counts(TrackFilter(**criteria)).get("tag", {})

    @_checked
    def facets(self, **criteria: Any) -> dict[str, Any]:
        """Faceted counts over the tracks matching ``criteria`` (the fields of
        :class:`TrackFilter`): ``{"total": n, "facets": {facet: [...]}}``, one list per
        name of :data:`FACETS`. A track has one value of ``status``, ``grade`` and each
        range: those count the tracks matching the other criteria (``{"value", "tracks"}``;
        ranges ``{"min", "max", "tracks"}``, every bucket of :data:`RANGES`). A track has
        any number of ``tags``, ``defect_types`` and ``quality`` findings, and choosing
        more narrows: those count the tracks matching every criterion, most first.
        One pass over ``tracks`` (grouped by one integer), one or two over ``labels``.
        """
        where = TrackFilter(**criteria)
        values: dict[str, tuple[Any, ...]] = {
            "status": ("ok", "failed", "missing"), "grade": tuple("ABCDEF"),
            **{name: tuple(range(len(edges) + 1)) for name, edges in RANGES.items()}}
        key, radix = "0", 1  # every single-valued facet's value in one integer (0: none)
        for name, expr in _FACET_KEYS.items():
            key += f" + {radix} * ({expr})"
            radix *= len(values[name]) + 1
        flags, params = [], []  # whether a track meets each chosen facet's own criterion
        for name in values:
            clauses, own = where.own(name)
            if clauses:
                flags.append((name, f"({' AND '.join(clauses)})"))
                params += own
        base, base_params = where.where(without=tuple(values))
        columns = ", ".join([key, *(f for _, f in flags)])
        counts: dict[str, dict[Any, int]] = {name: {} for name in values}
        total = 0
        for row in self._conn.execute(  # one pass, grouped by a small integer
                f"SELECT {columns}, COUNT(*) FROM tracks{base} "
                f"GROUP BY {', '.join(map(str, range(1, len(flags) + 2)))}",
                (*params, *base_params)):
            code, met, n = row[0], dict(zip((f for f, _ in flags), row[1:-1], strict=True)), row[-1]
            total += n if all(met.values()) else 0
            for name, options in values.items():
                code, at = divmod(code, len(options) + 1)
                if at and all(v for f, v in met.items() if f != name):
                    counts[name][options[at - 1]] = counts[name].get(options[at - 1], 0) + n
        labels = self._label_counts(where, total)
        facets: dict[str, Any] = {
            "status": [{"value": v, "tracks": counts["status"].get(v, 0)}
                       for v in ("ok", "failed", "missing")],
            "grade": [{"value": v, "tracks": counts["grade"].get(v, 0)} for v in "ABCDEF"],
            **{name: _bucket_counts(name, counts[name]) for name in RANGES},
            "tags": _ranked(labels.get("tag", {})),
            "defect_types": _ranked(labels.get("defect", {})),
            "quality": [{"value": v, "tracks": labels.get("quality", {}).get(v, 0)}
                        for v in QUALITY_FILTERS]}
        return {"total": total, "facets": facets}

    def _label_counts(self, where: TrackFilter, matching: int | None = None
                      ) -> dict[str, dict[str, int]]:
        """kind -> label -> how many tracks matching ``where`` have it, most first. Given
        how many tracks match (``matching``), the cheapest way: few, look up their labels;
        nearly all, subtract the others' labels from every label's count; else read every
        label once (each lookup costs about as much as reading 30 labels)."""
        sql, params = where.where()
        conditions = sql.removeprefix(" WHERE ") or "1"
        tracks = self._conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
        matching = tracks if matching is None else matching
        others = tracks - matching <= min(matching - 1, tracks // 10)
        scan = "+" if not others and matching > tracks // 10 else ""
        out: dict[str, dict[str, int]] = {}
        if others:
            conditions = f"NOT COALESCE(({conditions}), 0)"
            for kind, value, n in self._conn.execute(
                    "SELECT kind, value, COUNT(*) FROM labels GROUP BY kind, value"):
                out.setdefault(kind, {})[value] = n
        for kind, value, n in self._conn.execute(
                f"SELECT kind, value, COUNT(*) FROM labels WHERE {scan}track_id IN (SELECT id "
                f"FROM tracks WHERE {conditions}) GROUP BY kind, value", params):
            counted = out.setdefault(kind, {})
            counted[value] = counted.get(value, 0) + (-n if others else n)
        return {kind: dict(sorted(((v, n) for v, n in counted.items() if n > 0),
                                  key=lambda item: (-item[1], item[0])))
                for kind, counted in out.items() if any(counted.values())}

    @_checked
    def tag_vocabulary(self) -> list[str]:
        """Every tag the catalog's ``tag`` results scored (present or not), by name: the
        tags of one result per tagger (a result scores every tag of its tagger)."""
        return [r[0] for r in self._conn.execute(
            "SELECT DISTINCT json_extract(j.value, '$.tag') AS name FROM results r, "
            "json_each(r.summary, '$.tags') j WHERE r.id IN (SELECT MIN(id) FROM results "
            "WHERE analyzer = 'tag' GROUP BY model_version) ORDER BY name")]

    def iter_tracks(self, *, batch: int = 500) -> Iterator[Track]:
        """Every track with its results, by id, ``batch`` at a time (for exports)."""
        last = 0
        while page := self._page(last, batch):
            yield from page
            last = page[-1].id

    @_checked
    def _page(self, after: int, batch: int) -> list[Track]:
        rows = self._conn.execute("SELECT * FROM tracks WHERE id > ? ORDER BY id LIMIT ?",
                                  (after, batch)).fetchall()
        results = self._results([int(r["id"]) for r in rows])
        return [_track_record(r, results.get(int(r["id"]), {})) for r in rows]

    @_checked
    def stats(self) -> dict[str, Any]:
        """Counts and totals: tracks by status, hours of audio, results by analyzer, scans."""
        db = self._conn
        by_status = dict(db.execute("SELECT status, COUNT(*) FROM tracks GROUP BY status"))
        hours = db.execute("SELECT COALESCE(SUM(duration_s), 0) FROM tracks").fetchone()[0]
        missing = db.execute("SELECT COUNT(*) FROM tracks WHERE missing = 1").fetchone()[0]
        analyzers = {r[0]: {"tracks": r[1], "models": r[2].split(",")} for r in db.execute(
            "SELECT analyzer, COUNT(*), GROUP_CONCAT(DISTINCT model_version) FROM results "
            "GROUP BY analyzer ORDER BY analyzer")}
        regions = {f"{r[0]}:{r[1]}": round(r[2], 3) for r in db.execute(
            "SELECT results.analyzer, label, SUM(end_s - start_s) FROM regions JOIN results "
            "ON results.id = regions.result_id GROUP BY results.analyzer, label")}
        formats = dict(db.execute("SELECT COALESCE(container, '?'), COUNT(*) FROM tracks "
                                  "GROUP BY container ORDER BY COUNT(*) DESC"))
        errors = [{"path": r[0], "error": r[1]} for r in db.execute(
            "SELECT path, error FROM tracks WHERE status = 'failed' ORDER BY path")]
        scans = self.scans()
        return {"catalog": str(self.path), "tracks": sum(by_status.values()),
                "ok": by_status.get("ok", 0), "failed": by_status.get("failed", 0),
                "missing": missing,
                "audio_hours": round(hours / 3600, 4), "formats": formats,
                "analyzers": analyzers, "region_seconds": regions, "failures": errors,
                "scans": len(scans), "last_scan": scans[-1].to_dict() if scans else None}

    # --- embeddings -------------------------------------------------------------------

    @_checked
    def embedding_models(self) -> dict[str, dict[str, Any]]:
        """model_version -> ``{"model", "tracks", "vectors", "dim", "segment_s"}`` for every
        embedder whose embeddings the catalog holds (tracks that are ok)."""
        out: dict[str, dict[str, Any]] = {}
        for r in self._conn.execute(
                "SELECT e.model_version, GROUP_CONCAT(DISTINCT r.model), COUNT(*), SUM(e.n), "
                "MAX(e.dim), MAX(e.segment_s) FROM embeddings e "
                "JOIN results r ON r.id = e.result_id JOIN tracks t ON t.id = r.track_id "
                "WHERE t.status = 'ok' AND t.missing = 0 GROUP BY e.model_version "
                "ORDER BY COUNT(*) DESC, e.model_version"):
            out[r[0]] = {"model": r[1].split(",")[0], "tracks": r[2], "vectors": int(r[3]),
                         "dim": r[4], "segment_s": r[5]}
        return out

    @_checked
    def embeddings(self, model_version: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stored segment embedding of one model, for an index: ``(track_ids (N,)
        int64, starts_s (N,) float64, vectors (N, dim) float32)``, by track id.

        Raises:
            CantataError: the model's embeddings do not all have one size.
        """
        db = self._conn
        where = ("FROM embeddings e JOIN results r ON r.id = e.result_id "
                 "JOIN tracks t ON t.id = r.track_id WHERE e.model_version = ? "
                 "AND t.status = 'ok' AND t.missing = 0")
        total, dims = db.execute(f"SELECT COALESCE(SUM(e.n), 0), GROUP_CONCAT(DISTINCT e.dim) "
                                 f"{where}", (model_version,)).fetchone()
        dim_list = [int(d) for d in dims.split(",")] if dims else [0]
        if len(dim_list) > 1:
            raise CantataError(f"{self.path}: embeddings of {model_version!r} have sizes "
                               f"{dim_list}; re-scan with --analyzers embed")
        track_ids = np.zeros(total, np.int64)
        starts = np.zeros(total, np.float64)
        vectors = np.zeros((total, dim_list[0]), np.float32)
        at = 0
        for r in db.execute(f"SELECT r.track_id, e.n, e.starts, e.vectors {where} "
                            f"ORDER BY r.track_id", (model_version,)):
            n = r[1]
            track_ids[at:at + n] = r[0]
            starts[at:at + n] = np.frombuffer(r[2], "<f8")
            vectors[at:at + n] = np.frombuffer(r[3], "<f4").reshape(n, -1)
            at += n
        return track_ids, starts, vectors

    @_checked
    def embeddings_fingerprint(self, model_version: str) -> str:
        """A digest of which embeddings of one model the catalog holds (which results, of
        which content, written when) without reading the vectors: an index built from
        :meth:`embeddings` is current while this is unchanged."""
        digest = hashlib.blake2b(model_version.encode(), digest_size=16)
        for r in self._conn.execute(
                "SELECT e.result_id, r.track_id, t.content_hash, r.created_at, e.n "
                "FROM embeddings e JOIN results r ON r.id = e.result_id "
                "JOIN tracks t ON t.id = r.track_id WHERE e.model_version = ? "
                "AND t.status = 'ok' AND t.missing = 0 ORDER BY e.result_id",
                (model_version,)):
            digest.update(("|".join(map(str, r)) + "\n").encode())
        return digest.hexdigest()

    @_checked
    def same_audio(self, pcm_hash: str) -> dict[int, str]:
        """track id -> path of every track (there and ok) whose ``assess`` result has this
        hash of the decoded audio."""
        return {r[0]: r[1] for r in self._conn.execute(
            "SELECT t.id, t.path FROM tracks t JOIN results r ON r.track_id = t.id WHERE "
            "r.analyzer = 'assess' AND json_extract(r.summary, '$.pcm_hash') = ? AND "
            "t.status = 'ok' AND t.missing = 0 ORDER BY t.id", (pcm_hash,))}

    @_checked
    def paths(self, track_ids: Sequence[int]) -> dict[int, str]:
        """track id -> path, for the ids that exist."""
        out: dict[int, str] = {}
        for chunk in _chunks(sorted({int(i) for i in track_ids}), 900):
            marks = ",".join("?" * len(chunk))
            out.update((r[0], r[1]) for r in self._conn.execute(
                f"SELECT id, path FROM tracks WHERE id IN ({marks})", chunk))
        return out

    def _results(self, track_ids: list[int]) -> dict[int, dict[str, Result]]:
        if not track_ids:
            return {}
        db, marks = self._conn, ",".join("?" * len(track_ids))
        rows = db.execute(f"SELECT * FROM results WHERE track_id IN ({marks}) ORDER BY "
                          f"analyzer", track_ids).fetchall()
        result_ids = [r["id"] for r in rows]
        regions: dict[int, list[Segment]] = {}
        stems: dict[int, dict[str, str]] = {}
        embeddings: dict[int, Embeddings] = {}
        for chunk in _chunks(result_ids, 900):
            marks = ",".join("?" * len(chunk))
            for r in db.execute(f"SELECT * FROM regions WHERE result_id IN ({marks}) "
                                f"ORDER BY result_id, start_s, label", chunk):
                regions.setdefault(r["result_id"], []).append(
                    Segment(r["start_s"], r["end_s"], r["label"], r["confidence"]))
            for r in db.execute(f"SELECT * FROM stems WHERE result_id IN ({marks}) "
                                f"ORDER BY result_id, stem", chunk):
                stems.setdefault(r["result_id"], {})[r["stem"]] = r["path"]
            for r in db.execute(f"SELECT * FROM embeddings WHERE result_id IN ({marks})",
                                chunk):
                embeddings[r["result_id"]] = Embeddings(
                    np.frombuffer(r["starts"], "<f8"), r["segment_s"],
                    np.frombuffer(r["vectors"], "<f4").reshape(r["n"], r["dim"]),
                    r["model_version"])
        out: dict[int, dict[str, Result]] = {}
        for r in rows:
            out.setdefault(r["track_id"], {})[r["analyzer"]] = Result(
                r["analyzer"], r["analyzer_version"], r["model"], r["model_version"],
                json.loads(r["summary"]), tuple(regions.get(r["id"], ())),
                stems.get(r["id"], {}), r["created_at"], embeddings.get(r["id"]))
        return out


def _insert_result(db: sqlite3.Connection, track_id: int, result: Result, stamp: str) -> None:
    db.execute("DELETE FROM results WHERE track_id = ? AND analyzer = ?",
               (track_id, result.analyzer))
    _underive(db, track_id, result.analyzer)
    cur = db.execute("INSERT INTO results (track_id, analyzer, analyzer_version, model, "
                     "model_version, summary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (track_id, result.analyzer, result.analyzer_version, result.model,
                      result.model_version, json.dumps(result.summary), stamp))
    result_id = cur.lastrowid
    db.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, ?)",
                   [(result_id, s.start_s, s.end_s, s.label, s.confidence)
                    for s in result.regions])
    db.executemany("INSERT INTO stems VALUES (?, ?, ?)",
                   [(result_id, stem, path) for stem, path in result.stems.items()])
    e = result.embeddings
    if e is not None:
        db.execute("INSERT INTO embeddings VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (result_id, e.model_version or result.model_version, float(e.segment_s),
                    e.dim, len(e), np.ascontiguousarray(e.starts_s, "<f8").tobytes(),
                    np.ascontiguousarray(e.vectors, "<f4").tobytes()))
    _derive(db, track_id, result.analyzer, result_id)


#: what a result's summary ``r.summary`` gives the catalog's lists (schema migration 5), per
#: analyzer: a column of ``tracks`` with its SQL, and the kind of the labels it gives with a
#: query of them from the one-row table ``r``
_DERIVED: dict[str, tuple[str, str, str | None, str]] = {
    "assess": ("grade", "json_extract(r.summary, '$.grade')", "quality",
               " UNION ALL ".join(f"SELECT '{name}' FROM r WHERE {condition}"
                                  for name, condition in QUALITY_FILTERS.items())),
    "detect": ("vocal_s", "json_extract(r.summary, '$.vocal_s')", None, ""),
    "separate": ("stem_count", "(SELECT COUNT(*) FROM stems s WHERE s.result_id = r.id)",
                 None, ""),
    "tag": ("tag_count", "json_array_length(r.summary, '$.present')", "tag",
            "SELECT j.value FROM r, json_each(r.summary, '$.present') j"),
    "defects": ("defective", "json_extract(r.summary, '$.defective') = 1", "defect",
                "SELECT j.key FROM r, json_each(r.summary, '$.types') j "
                "WHERE json_extract(r.summary, '$.defective') = 1 AND j.value > 0"),
}


def _derive(db: sqlite3.Connection, track_id: int, analyzer: str, result_id: int) -> None:
    """Keep what a new result gives the lists (:data:`_DERIVED`) with its track."""
    if analyzer not in _DERIVED:
        return
    column, value, kind, labels = _DERIVED[analyzer]
    db.execute(f"UPDATE tracks SET {column} = (SELECT {value} FROM results r WHERE r.id = ?) "
               f"WHERE id = ?", (result_id, track_id))
    if kind is not None:
        db.execute(f"WITH r AS (SELECT summary FROM results WHERE id = ?) INSERT OR IGNORE "
                   f"INTO labels SELECT ?, v.*, ? FROM ({labels}) v",
                   (result_id, kind, track_id))


def _underive(db: sqlite3.Connection, track_id: int, *analyzers: str) -> None:
    """Forget what the results of ``analyzers`` gave the lists for a track."""
    for analyzer in analyzers:
        if analyzer in _DERIVED:
            column, _, kind, _ = _DERIVED[analyzer]
            db.execute(f"UPDATE tracks SET {column} = NULL WHERE id = ?", (track_id,))
            db.execute("DELETE FROM labels WHERE track_id = ? AND kind = ?", (track_id, kind))


@dataclass(frozen=True)
class TrackFilter:
    """Which tracks :meth:`Catalog.tracks`, :meth:`Catalog.count` and
    :meth:`Catalog.facets` take (every criterion given must hold).

    Attributes:
        status: ``ok`` or ``failed`` (of the tracks there), or ``missing`` (file gone).
        search: case-insensitive text in the path.
        missing: False: only tracks whose file is there; True: only the missing; None: all.
        defective: only tracks whose ``defects`` result says defective.
        defect_type: only defective tracks with events of this type (as ``defect_types``).
        defect_types: only defective tracks with events of each of these types.
        quality: only tracks whose ``assess`` result has each of these findings
            (names of :data:`QUALITY_FILTERS`).
        tags: only tracks whose ``tag`` result found each of these tags present.
        grades: only tracks whose grade (the ``assess`` grade with the ``defects``
            verdict joined, :data:`GRADE_SQL`) is one of these.
        lufs: ``(min, max)`` integrated loudness, LUFS (min included, max not; None: open).
        vocal: ``(min, max)`` share of the duration the ``detect`` result says is singing, 0..1.
        duration: ``(min, max)`` seconds.
    """

    status: str | None = None
    search: str | None = None
    missing: bool | None = False
    defective: bool = False
    defect_type: str | None = None
    defect_types: Sequence[str] = ()
    quality: Sequence[str] = ()
    tags: Sequence[str] = ()
    grades: Sequence[str] = ()
    lufs: tuple[float | None, float | None] = (None, None)
    vocal: tuple[float | None, float | None] = (None, None)
    duration: tuple[float | None, float | None] = (None, None)

    def where(self, *, without: Sequence[str] = ()) -> tuple[str, tuple[Any, ...]]:
        """SQL ``WHERE`` clause on ``tracks`` and its parameters; ``without``: names of
        facets whose own criteria are left out (see :meth:`own`).

        Raises:
            CantataError: an unknown quality finding.
        """
        clauses: list[str] = []
        params: list[Any] = []
        for kind, values in (("tag", self.tags), ("quality", self.quality),
                             ("defect", [*self.defect_types, *filter(None, [self.defect_type])])):
            for value in dict.fromkeys(values):
                if kind == "quality" and value not in QUALITY_FILTERS:
                    raise CantataError(f"unknown quality filter {value!r}; choose from "
                                       f"{', '.join(QUALITY_FILTERS)}")
                clauses.append(_LABELLED)
                params += [kind, value]
        if self.defective:
            clauses.append("defective = 1")
        for name in ("status", "grade", *RANGES):
            if name not in without:
                own, values = self.own(name)
                clauses += own
                params += values
        if self.search:
            clauses.append("path LIKE ? ESCAPE '\\'")
            escaped = self.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    def own(self, facet: str) -> tuple[list[str], list[Any]]:
        """The SQL conditions and parameters of one single-valued facet's criterion:
        ``status`` (with ``missing``), ``grade``, or a range of :data:`RANGES`."""
        clauses: list[str] = []
        params: list[Any] = []
        if facet == "status":
            if self.status == "missing":
                clauses.append("missing = 1")
            else:
                if self.missing is not None:
                    clauses.append("missing = ?")
                    params.append(int(self.missing))
                if self.status is not None:
                    clauses.append("status = ?")
                    params.append(self.status)
        elif facet == "grade":
            if self.grades:
                clauses.append(f"{GRADE_SQL} IN ({','.join('?' * len(self.grades))})")
                params += list(self.grades)
        else:
            low, high = {"loudness": self.lufs, "vocal_share": self.vocal,
                         "duration": self.duration}[facet]
            for bound, op in ((low, ">="), (high, "<")):
                if bound is not None:
                    clauses.append(f"{_RANGED[facet]} {op} ?")
                    params.append(float(bound))
        return clauses, params


#: the track has the label (kind, value) of the ``labels`` table, kept from its results
_LABELLED = "id IN (SELECT track_id FROM labels WHERE kind = ? AND value = ?)"

#: the ranged facets' values, as SQL on ``tracks``
_RANGED = {"loudness": "loudness_lufs", "vocal_share": "(vocal_s / NULLIF(duration_s, 0))",
           "duration": "duration_s"}

#: bucket edges of the ranged facets: loudness (LUFS), vocal share (0..1), duration (s)
RANGES = {"loudness": (-30.0, -23.0, -16.0, -12.0, -8.0),
          "vocal_share": (0.1, 0.25, 0.5, 0.75),
          "duration": (60.0, 180.0, 300.0, 600.0)}

#: SQL of a track's grade as its quality report gives it: the ``assess`` grade, no better
#: than :data:`~cantata.assess.grade.DEFECTS_GRADE` when the ``defects`` analyzer found
#: defects (:func:`cantata.catalog.quality.regrade` joins the two the same way); NULL
#: without an ``assess`` result
GRADE_SQL = (f"CASE WHEN grade IS NOT NULL AND defective = 1 "
             f"THEN max(grade, '{DEFECTS_GRADE}') ELSE grade END")

#: the facets :meth:`Catalog.facets` counts: ``status`` (ok, failed, missing), ``grade``,
#: the ranges of :data:`RANGES`, and the labels ``tags``, ``defect_types``, ``quality``
FACETS = ("status", "grade", "loudness", "vocal_share", "duration", "tags", "defect_types",
          "quality")

#: sort keys kept from results (migration 5): the ``assess`` grade (tracks without one after
#: F), the seconds of singing, the number of stems, the number of tags present (no result:
#: first, as the lowest)
_DERIVED_ORDER = {"quality": f"COALESCE({GRADE_SQL}, 'G')", "vocal_s": "vocal_s",
                  "stems": "stem_count", "tags": "tag_count"}


def _bucket(expr: str, edges: Sequence[float]) -> str:
    """SQL: 1 + the index of the bucket of ``edges`` that ``expr`` falls in (0: NULL)."""
    whens = " ".join(f"WHEN {expr} < {edge!r} THEN {i + 1}" for i, edge in enumerate(edges))
    return f"CASE WHEN {expr} IS NULL THEN 0 {whens} ELSE {len(edges) + 1} END"


#: SQL of each single-valued facet's value of a track, as 1 + its index (0: none)
_FACET_KEYS = {
    "status": "CASE WHEN missing = 1 THEN 3 WHEN status = 'ok' THEN 1 ELSE 2 END",
    "grade": f"COALESCE(instr('ABCDEF', {GRADE_SQL}), 0)",
    **{name: _bucket(_RANGED[name], edges) for name, edges in RANGES.items()}}


def _bucket_counts(name: str, counts: dict[Any, int]) -> list[dict[str, Any]]:
    """Every bucket of a ranged facet, with its bounds and count."""
    edges = (None, *RANGES[name], None)
    return [{"min": edges[i], "max": edges[i + 1], "tracks": counts.get(i, 0)}
            for i in range(len(edges) - 1)]


def _ranked(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"value": v, "tracks": n} for v, n in counts.items()]


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _track_record(row: sqlite3.Row, results: dict[str, Result]) -> Track:
    values = {c: row[c] for c in _TRACK_COLUMNS}
    return Track(**{**values, "truncated": bool(values["truncated"]),
                    "missing": bool(values["missing"])}, results=results)


def _scan_record(row: sqlite3.Row) -> ScanRun:
    values = dict(row)
    values["analyzers"] = tuple(json.loads(values["analyzers"]))
    return ScanRun(**values)


__all__ = ["FACETS", "QUALITY_FILTERS", "RANGES", "Catalog", "CatalogDamagedError",
           "CatalogNotFoundError", "CatalogSchemaError", "KnownFile", "TrackFilter",
           "integrity_check", "now"]
