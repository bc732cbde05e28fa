"""The catalog: schema, transactional writes, reads, stats."""

from __future__ import annotations

import sqlite3

import pytest

from cantata.catalog import (
    SCHEMA_VERSION,
    Catalog,
    CatalogNotFoundError,
    CatalogSchemaError,
    Result,
    TrackFacts,
)
from cantata.types import Segment


def facts(path="/lib/a.wav", content_hash="h1", **kw):
    base = dict(size_bytes=10, mtime_ns=1, duration_s=12.5, sample_rate=44100, channels=2,
                codec="PCM_16", container="WAV", loudness_lufs=-14.0, peak_dbfs=-1.0)
    return TrackFacts(path, content_hash, **{**base, **kw})


def detect_result(vocal=((1.0, 2.0),), version="m1"):
    regions = tuple(Segment(a, b, "vocal", 0.9) for a, b in vocal)
    return Result("detect", "1", "singing", version, {"vocal_s": 1.0}, regions)


def stems_result():
    return Result("separate", "1", "separator", "s1", {"stems": ["vocals"]},
                  stems={"vocals": "/stems/v.flac"})


def test_new_catalog_has_the_current_schema_and_reopens(tmp_path):
    db = tmp_path / "sub" / "c.db"
    with Catalog(db) as catalog:
        assert catalog.schema_found == 0
    with Catalog(db) as catalog:
        assert catalog.schema_found == SCHEMA_VERSION
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_and_foreign_files_are_refused(tmp_path):
    newer = tmp_path / "newer.db"
    sqlite3.connect(newer).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(CatalogSchemaError, match="newer"):
        Catalog(newer)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogSchemaError, match="junk.db is not a Cantata catalog"):
        Catalog(junk)
    with pytest.raises(CatalogNotFoundError, match="missing.db"):
        Catalog(tmp_path / "missing.db", create=False)


def test_write_and_read_back_everything(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        scan = catalog.start_scan("/lib", ["detect=singing"], backend="local", jobs=1)
        track_id = catalog.write_track(facts(), [detect_result(), stems_result()],
                                       scan_id=scan.id)
        track = catalog.track(track_id)
        assert track.path == "/lib/a.wav" and track.ok and track.duration_s == 12.5
        assert track.scan_id == scan.id
        assert set(track.results) == {"detect", "separate"}
        assert track.results["detect"].regions == (Segment(1.0, 2.0, "vocal", 0.9),)
        assert track.results["detect"].summary == {"vocal_s": 1.0}
        assert track.results["separate"].stems == {"vocals": "/stems/v.flac"}
        assert track.results["detect"].key == "detect@1:m1"
        assert catalog.track("/lib/a.wav").id == track_id
        assert catalog.track(999) is None
        assert catalog.scan(scan.id).analyzed == 1
        known = catalog.known_files()["/lib/a.wav"]
        assert known.result_keys == {"detect@1:m1", "separate@1:s1"}
        assert known.content_hash == "h1" and known.stat.mtime_ns == 1


def test_rewrites_replace_results_and_new_content_drops_old_ones(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        tid = catalog.write_track(facts(), [detect_result(), stems_result()])
        catalog.write_track(facts(), [detect_result(vocal=((3.0, 4.0), (5.0, 6.0)))])
        track = catalog.track(tid)
        assert [r.start_s for r in track.results["detect"].regions] == [3.0, 5.0]
        assert "separate" in track.results  # same content: other analyzers' results stay
        assert catalog.write_track(facts(content_hash="h2"), [detect_result()]) == tid
        assert set(catalog.track(tid).results) == {"detect"}
        catalog.write_track(facts(content_hash="h2", error="cannot decode"))
        track = catalog.track(tid)
        assert track.status == "failed" and track.error == "cannot decode"
        assert track.results == {}
        assert catalog.count() == 1


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        catalog.write_track(facts(), [detect_result()])
        bad = Result("detect", "1", "singing", "m1", {"x": object()})  # not JSON-serializable
        with pytest.raises(TypeError):
            catalog.write_track(facts(path="/lib/b.wav"), [bad])
        assert [t.path for t in catalog.tracks()] == ["/lib/a.wav"]


def test_list_filter_sort_and_stats(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        catalog.write_track(facts("/lib/b_long.wav", duration_s=100.0), [detect_result()])
        catalog.write_track(facts("/lib/a_short.mp3", duration_s=5.0, container="mp3"))
        catalog.write_track(facts("/lib/c%bad.ogg", error="broken", duration_s=None))
        assert [t.path for t in catalog.tracks()] == ["/lib/a_short.mp3", "/lib/b_long.wav",
                                                      "/lib/c%bad.ogg"]
        by_length = catalog.tracks(sort="duration_s", descending=True, status="ok")
        assert [t.duration_s for t in by_length] == [100.0, 5.0]
        assert [t.path for t in catalog.tracks(search="LONG")] == ["/lib/b_long.wav"]
        assert [t.path for t in catalog.tracks(search="%")] == ["/lib/c%bad.ogg"]
        assert [t.path for t in catalog.tracks(search="_s")] == ["/lib/a_short.mp3"]
        assert catalog.count(status="failed") == 1
        assert len(catalog.tracks(limit=1, offset=1)) == 1
        with_results = catalog.tracks(search="long", with_results=True)[0]
        assert "detect" in with_results.results
        with pytest.raises(Exception, match="cannot sort"):
            catalog.tracks(sort="path; DROP TABLE tracks")
        stats = catalog.stats()
        assert (stats["tracks"], stats["ok"], stats["failed"]) == (3, 2, 1)
        assert stats["analyzers"]["detect"]["tracks"] == 1
        assert stats["region_seconds"] == {"detect:vocal": 1.0}
        assert stats["failures"] == [{"path": "/lib/c%bad.ogg", "error": "broken"}]
        assert stats["audio_hours"] == round(105 / 3600, 4)
        assert [t.id for t in catalog.iter_tracks(batch=2)] == [1, 2, 3]


def test_a_new_migration_upgrades_an_old_catalog_in_place(tmp_path, monkeypatch):
    from cantata.catalog import schema

    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        catalog.write_track(facts(), [detect_result()])
    extra = "ALTER TABLE tracks ADD COLUMN tempo_bpm REAL; -- a later capability's column\n"
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, extra))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Catalog(db) as catalog:
        assert catalog.schema_found == SCHEMA_VERSION
        assert catalog.track(1).results["detect"].regions  # the data survived
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert "tempo_bpm" in [r[1] for r in conn.execute("PRAGMA table_info(tracks)")]


def test_a_failing_migration_leaves_the_old_schema(tmp_path, monkeypatch):
    from cantata.catalog import schema

    db = tmp_path / "c.db"
    Catalog(db).close()
    broken = "ALTER TABLE tracks ADD COLUMN a REAL; ALTER TABLE nowhere ADD COLUMN b REAL;"
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(CatalogSchemaError, match=f"v{SCHEMA_VERSION + 1} failed .* unchanged"):
        Catalog(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "a" not in [r[1] for r in conn.execute("PRAGMA table_info(tracks)")]


def foreign_db(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("create", [False, True])
def test_a_foreign_database_is_refused_and_left_untouched(tmp_path, create):
    other = foreign_db(tmp_path / "other.db")
    before = other.read_bytes()
    with pytest.raises(CatalogSchemaError, match="other.db is not a Cantata catalog"):
        Catalog(other, create=create)
    assert other.read_bytes() == before and not (tmp_path / "other.db-wal").exists()
    conn = sqlite3.connect(other)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_a_read_only_open_never_migrates(tmp_path, monkeypatch):
    from cantata.catalog import schema

    db = tmp_path / "c.db"
    Catalog(db).close()
    extra = "ALTER TABLE tracks ADD COLUMN tempo_bpm REAL;"
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, extra))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(CatalogSchemaError, match=f"v{SCHEMA_VERSION} is older.*cantata scan"):
        Catalog(db, create=False)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(CatalogSchemaError, match="empty.db is not a Cantata catalog"):
        Catalog(empty, create=False)
    assert empty.stat().st_size == 0


def damage(db):
    """Overwrite the middle half of a catalog file (its first page, the header, survives)."""
    data = bytearray(db.read_bytes())
    quarter = len(data) // 4
    data[quarter:3 * quarter] = b"\xa5" * (2 * quarter)
    db.write_bytes(bytes(data))


def damaged_catalog(path, n=300):
    with Catalog(path) as catalog:
        for i in range(n):
            catalog.write_track(facts(f"/lib/{'long-folder-name/' * 4}{i:04d}.wav", f"h{i}"),
                                [detect_result()])
    damage(path)
    return path


def test_a_damaged_catalog_is_one_clear_error_and_check_reports_it(tmp_path):
    from cantata.catalog import CatalogDamagedError, integrity_check

    good = tmp_path / "good.db"
    Catalog(good).close()
    assert integrity_check(good) == ["ok"]
    db = damaged_catalog(tmp_path / "c.db")
    with Catalog(db, create=False) as catalog:
        with pytest.raises(CatalogDamagedError, match="c.db: the catalog is damaged"):
            catalog.tracks(with_results=True)
        with pytest.raises(CatalogDamagedError, match="cantata catalog check"):
            catalog.stats()
    problems = integrity_check(db)
    assert problems and problems != ["ok"]
    with pytest.raises(CatalogSchemaError, match="other.db is not a Cantata catalog"):
        integrity_check(foreign_db(tmp_path / "other.db"))
