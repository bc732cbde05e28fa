"""Segment embeddings in the catalog: round trip, bulk read, fingerprint, migration, export."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from cantata.catalog import SCHEMA_VERSION, Catalog, Result, TrackFacts, export
from cantata.types import Embeddings


def facts(path, content_hash="h", **kw):
    return TrackFacts(path, content_hash, 10, 1, duration_s=6.0, **kw)


def embed_result(n=4, dim=8, seed=0, version="e1"):
    rng = np.random.default_rng(seed)
    emb = Embeddings(np.arange(n) * 1.5, 3.0, rng.standard_normal((n, dim)), version)
    return Result("embed", "1", "debug", version, {"segments": n, "dim": dim,
                                                   "segment_s": 3.0}, embeddings=emb)


def test_round_trip_and_bulk_read(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        first = embed_result(n=4, seed=1)
        a = catalog.write_track(facts("/lib/a.wav", "ha"), [first])
        b = catalog.write_track(facts("/lib/b.wav", "hb"), [embed_result(n=3, seed=2)])
        catalog.write_track(facts("/lib/c.wav", "hc"), [embed_result(n=5, version="e2")])
        catalog.write_track(facts("/lib/d.wav", "hd", error="broken"))
        back = catalog.track(a).results["embed"].embeddings
        assert back.model_version == "e1" and back.segment_s == 3.0
        np.testing.assert_array_equal(back.vectors, first.embeddings.vectors)
        np.testing.assert_array_equal(back.starts_s, first.embeddings.starts_s)
        listed = catalog.tracks(with_results=True)
        assert len(listed[0].results["embed"].embeddings) == 4
        assert catalog.tracks()[0].results == {}

        ids, starts, vectors = catalog.embeddings("e1")
        assert ids.tolist() == [a] * 4 + [b] * 3 and vectors.shape == (7, 8)
        assert vectors.dtype == np.float32 and starts[4:].tolist() == [0.0, 1.5, 3.0]
        np.testing.assert_array_equal(vectors[:4], first.embeddings.vectors)
        assert catalog.embeddings("nothing")[2].shape[0] == 0
        models = catalog.embedding_models()
        assert models["e1"] == {"model": "debug", "tracks": 2, "vectors": 7, "dim": 8,
                                "segment_s": 3.0}
        assert models["e2"]["tracks"] == 1
        assert catalog.paths([a, b, 999]) == {a: "/lib/a.wav", b: "/lib/b.wav"}


def test_to_dict_gives_the_shape_not_the_vectors(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        track = catalog.track(catalog.write_track(facts("/lib/a.wav"), [embed_result()]))
    out = track.to_dict()
    json.dumps(out)
    assert out["results"]["embed"]["embeddings"] == {"model_version": "e1", "segment_s": 3.0,
                                                     "dim": 8, "segments": 4}
    assert Result("detect", "1", "m", "v").to_dict()["embeddings"] is None


def test_fingerprint_follows_every_change(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        empty = catalog.embeddings_fingerprint("e1")
        a = catalog.write_track(facts("/lib/a.wav", "ha"), [embed_result()])
        one = catalog.embeddings_fingerprint("e1")
        assert one != empty and catalog.embeddings_fingerprint("e1") == one
        catalog.write_track(facts("/lib/b.wav", "hb"), [embed_result(seed=3)])
        two = catalog.embeddings_fingerprint("e1")
        assert two != one
        catalog.write_track(facts("/lib/b.wav", "hb2"), [embed_result(seed=4)])  # new content
        three = catalog.embeddings_fingerprint("e1")
        assert three != two
        catalog.remove(a)
        assert catalog.embeddings_fingerprint("e1") != three
        assert catalog.embeddings_fingerprint("e2") != catalog.embeddings_fingerprint("e1")


def test_failures_and_new_content_drop_embeddings(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        catalog.write_track(facts("/lib/a.wav", "ha"), [embed_result()])
        catalog.write_track(facts("/lib/a.wav", "ha", error="gone bad"))
        assert catalog.embeddings("e1")[0].size == 0
        count = catalog._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        assert count == 0  # cascaded with the results


def test_a_v1_catalog_is_migrated_and_keeps_its_tracks(tmp_path, monkeypatch):
    from cantata.catalog import db as catalog_db
    from cantata.catalog import schema

    db = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        m.setattr(schema, "SCHEMA_VERSION", 1)
        for name in ("_FACT_COLUMNS", "_TRACK_COLUMNS"):  # the v1 tracks table's columns
            m.setattr(catalog_db, name, tuple(c for c in getattr(catalog_db, name)
                                              if c != "truncated"))
        m.setattr(catalog_db, "_DERIVED", {})  # v1 kept nothing from results (v5 does)
        with Catalog(db) as catalog:
            catalog.write_track(facts("/lib/a.wav"),
                                [Result("detect", "1", "singing", "m1", {"vocal_s": 1.0})])
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 1
    with Catalog(db) as catalog:
        assert catalog.schema_found == 1 and SCHEMA_VERSION >= 2
        assert catalog.track(1).results["detect"].summary == {"vocal_s": 1.0}
        assert catalog.track(1).results["detect"].embeddings is None
        catalog.write_track(facts("/lib/a.wav"), [embed_result()])
        assert catalog.embeddings("e1")[2].shape == (4, 8)


def test_exports_hold_embeddings(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        stored = embed_result(n=3, dim=4)
        catalog.write_track(facts("/lib/a.wav"), [stored])
        catalog.write_track(facts("/lib/b.wav", "hb"))
        assert export(catalog, tmp_path / "c.jsonl") == 2
        row = json.loads((tmp_path / "c.jsonl").read_text().splitlines()[0])
        assert row["results"]["embed"]["embeddings"]["segments"] == 3
        pq = pytest.importorskip("pyarrow.parquet")
        assert export(catalog, tmp_path / "c.parquet") == 2
    rows = pq.read_table(tmp_path / "c.parquet").to_pylist()
    got = rows[0]["embeddings"][0]
    assert got["analyzer"] == "embed" and got["model_version"] == "e1"
    assert got["starts_s"] == [0.0, 1.5, 3.0]
    np.testing.assert_allclose(np.array(got["vectors"]), stored.embeddings.vectors)
    assert rows[1]["embeddings"] == []
