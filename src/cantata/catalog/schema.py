"""The catalog's SQLite schema, as numbered migrations (``PRAGMA user_version``)."""

from __future__ import annotations

import sqlite3

from cantata.errors import CantataError

#: Migration n (1-based) brings a catalog from schema n-1 to schema n. Append, never edit.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        root TEXT NOT NULL,
        analyzers TEXT NOT NULL,          -- JSON list of analyzer specs
        backend TEXT NOT NULL,
        jobs INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'running',
        found INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        analyzed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        error TEXT NOT NULL DEFAULT '',
        duration_s REAL,
        sample_rate INTEGER,
        channels INTEGER,
        codec TEXT,
        container TEXT,
        loudness_lufs REAL,
        peak_dbfs REAL,
        scan_id INTEGER REFERENCES scans(id),
        updated_at TEXT NOT NULL
    );
    CREATE INDEX tracks_hash ON tracks(content_hash);
    CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        analyzer TEXT NOT NULL,
        analyzer_version TEXT NOT NULL,
        model TEXT NOT NULL,
        model_version TEXT NOT NULL,
        summary TEXT NOT NULL,            -- JSON object
        created_at TEXT NOT NULL,
        UNIQUE (track_id, analyzer)
    );
    CREATE TABLE regions (
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        label TEXT NOT NULL,
        confidence REAL NOT NULL
    );
    CREATE INDEX regions_result ON regions(result_id);
    CREATE TABLE stems (
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        stem TEXT NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (result_id, stem)
    );
    """,
    # 2: the embed analyzer's segment embeddings, one row per result, arrays as little-endian
    # BLOBs (starts float64 (n,), vectors float32 (n, dim) row-major) so a whole model's
    # vectors load in one query
    """
    CREATE TABLE embeddings (
        result_id INTEGER PRIMARY KEY REFERENCES results(id) ON DELETE CASCADE,
        model_version TEXT NOT NULL,
        segment_s REAL NOT NULL,
        dim INTEGER NOT NULL,
        n INTEGER NOT NULL,
        starts BLOB NOT NULL,
        vectors BLOB NOT NULL
    );
    CREATE INDEX embeddings_model ON embeddings(model_version);
    """,
    # 3: a file that holds less audio than its header declares (cut short)
    """
    ALTER TABLE tracks ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: a track whose file a scan of its folder no longer finds is kept, with its results, as
    # missing (out of lists and search) until the file is back or `cantata catalog prune`
    """
    ALTER TABLE tracks ADD COLUMN missing INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: what the catalog page filters, counts and sorts on, kept from the results as they are
    # written (catalog.db _derive; no JSON read per request): the assess grade, seconds of
    # singing, stems and tags present, the defects verdict as columns; tags present, defect
    # types with events (of defective tracks) and assess findings (QUALITY_FILTERS) as labels;
    # one index holding every column the facets count and sort on (scans read it alone)
    """
    ALTER TABLE tracks ADD COLUMN grade TEXT;
    ALTER TABLE tracks ADD COLUMN vocal_s REAL;
    ALTER TABLE tracks ADD COLUMN stem_count INTEGER;
    ALTER TABLE tracks ADD COLUMN tag_count INTEGER;
    ALTER TABLE tracks ADD COLUMN defective INTEGER;
    CREATE TABLE labels (
        kind TEXT NOT NULL,               -- tag | defect | quality
        value TEXT NOT NULL,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        PRIMARY KEY (kind, value, track_id)
    ) WITHOUT ROWID;
    CREATE INDEX labels_track ON labels(track_id);
    UPDATE tracks SET
        grade = (SELECT json_extract(r.summary, '$.grade') FROM results r
                 WHERE r.track_id = tracks.id AND r.analyzer = 'assess'),
        vocal_s = (SELECT json_extract(r.summary, '$.vocal_s') FROM results r
                   WHERE r.track_id = tracks.id AND r.analyzer = 'detect'),
        stem_count = (SELECT (SELECT COUNT(*) FROM stems s WHERE s.result_id = r.id)
                      FROM results r WHERE r.track_id = tracks.id AND r.analyzer = 'separate'),
        tag_count = (SELECT json_array_length(r.summary, '$.present') FROM results r
                     WHERE r.track_id = tracks.id AND r.analyzer = 'tag'),
        defective = (SELECT json_extract(r.summary, '$.defective') = 1 FROM results r
                     WHERE r.track_id = tracks.id AND r.analyzer = 'defects');
    INSERT OR IGNORE INTO labels SELECT 'tag', j.value, r.track_id
        FROM results r, json_each(r.summary, '$.present') j WHERE r.analyzer = 'tag';
    INSERT OR IGNORE INTO labels SELECT 'defect', j.key, r.track_id
        FROM results r, json_each(r.summary, '$.types') j WHERE r.analyzer = 'defects'
        AND json_extract(r.summary, '$.defective') = 1 AND j.value > 0;
    INSERT OR IGNORE INTO labels SELECT 'quality', 'transcoded', track_id FROM results
        WHERE analyzer = 'assess' AND json_extract(summary, '$.lossy.transcoded') = 1;
    INSERT OR IGNORE INTO labels SELECT 'quality', 'clipped', track_id FROM results
        WHERE analyzer = 'assess' AND json_extract(summary, '$.clipping.runs') > 0;
    INSERT OR IGNORE INTO labels SELECT 'quality', 'too_loud', track_id FROM results
        WHERE analyzer = 'assess'
        AND json_extract(summary, '$.loudness.targets.streaming.gain_db') < -1.0;
    CREATE INDEX tracks_facets ON tracks(loudness_lufs, duration_s, vocal_s, grade, status,
        missing, defective, stem_count, tag_count);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


#: every catalog has these tables (schema v1 on)
CATALOG_TABLES = frozenset({"scans", "tracks", "results"})


class CatalogSchemaError(CantataError):
    """The catalog file was written by a newer Cantata, or is not a catalog."""


def check_catalog(conn: sqlite3.Connection, path: str) -> int:
    """The schema version of a catalog (0 for a new, empty database), changing nothing.

    Raises:
        CatalogSchemaError: the database is another program's, or a newer Cantata's.
    """
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if (found == 0 and tables) or (found > 0 and not CATALOG_TABLES <= tables):
        raise CatalogSchemaError(f"{path} is not a Cantata catalog")
    if found > SCHEMA_VERSION:
        raise CatalogSchemaError(f"{path}: catalog schema v{found} is newer than this "
                                 f"Cantata's v{SCHEMA_VERSION}; upgrade cantata")
    return found


def check_readable(conn: sqlite3.Connection, path: str) -> int:
    """The schema version of a catalog a read-only command may use as it is.

    Raises:
        CatalogSchemaError: not a catalog, or one of another schema version (read-only
            commands never migrate; ``cantata scan`` does).
    """
    found = check_catalog(conn, path)
    if found == 0:
        raise CatalogSchemaError(f"{path} is not a Cantata catalog")
    if found < SCHEMA_VERSION:
        raise CatalogSchemaError(f"{path}: catalog schema v{found} is older than this "
                                 f"Cantata's v{SCHEMA_VERSION}; run cantata scan on it once to "
                                 f"upgrade it (read-only commands leave it as it is)")
    return found


def migrate(conn: sqlite3.Connection, path: str) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`, each migration in one transaction.

    ``conn`` must be in autocommit mode (``isolation_level=None``).

    Returns:
        the schema version found before migrating (0 for a new file).

    Raises:
        CatalogSchemaError: the database is not a catalog, or its schema is newer than this
            Cantata knows.
    """
    found = check_catalog(conn, path)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")  # one transaction: a killed migration leaves the old
        try:
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        except sqlite3.Error as err:
            conn.execute("ROLLBACK")
            raise CatalogSchemaError(f"{path}: migrating the catalog to schema v{version} "
                                     f"failed ({err}); it is unchanged") from err
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    out, current = [], ""
    for line in script.splitlines():
        current += line.split("--", 1)[0] + "\n"
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return [s for s in out if s.rstrip(";").strip()]
