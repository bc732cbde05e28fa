"""Facets and filters of the catalog: ``Catalog.facets``, ``Catalog.tracks`` with the
``TrackFilter`` criteria, and what schema v5 keeps from results (written and migrated)."""

from __future__ import annotations

import sqlite3

import pytest

from cantata.catalog import Catalog, Result, TrackFacts
from cantata.errors import CantataError
from cantata.testing.catalogs import FACET_SONGS
from cantata.testing.catalogs import write_facet_catalog as write

SONGS = FACET_SONGS


@pytest.fixture
def catalog(tmp_path):
    with Catalog(tmp_path / "c.db") as catalog:
        write(catalog)
        yield catalog


def names(tracks):
    return sorted(t.path.rsplit("/", 1)[1].split(".")[0] for t in tracks)


def counted(facet):
    return {v.get("value", (v.get("min"), v.get("max"))): v["tracks"] for v in facet
            if v["tracks"]}


def test_filters_of_each_facet(catalog):
    # etude's assess grade is B, but the defect detector found defects in it: C, as its
    # quality report says (cantata.catalog.quality.regrade)
    assert names(catalog.tracks(grades=["C"])) == ["anthem", "drone", "etude"]
    assert names(catalog.tracks(grades=["A", "B"])) == ["ballad"]
    assert names(catalog.tracks(defect_types=["click"])) == ["anthem", "etude"]
    assert names(catalog.tracks(defect_types=["click", "dropout"])) == ["etude"]
    assert names(catalog.tracks(defect_type="dropout")) == ["etude"]
    assert names(catalog.tracks(defective=True)) == ["anthem", "etude"]
    assert names(catalog.tracks(quality=["transcoded"])) == ["etude"]
    assert names(catalog.tracks(quality=["clipped", "too_loud"])) == ["anthem"]
    assert names(catalog.tracks(tags=["piano", "vocal"])) == ["ballad"]
    assert names(catalog.tracks(lufs=(-20.0, -9.0))) == ["ballad", "etude"]  # max excluded
    assert names(catalog.tracks(vocal=(0.5, None))) == ["ballad"]
    assert names(catalog.tracks(vocal=(None, 0.1))) == ["drone", "etude"]
    assert names(catalog.tracks(duration=(100.0, 600.0))) == ["anthem", "ballad"]
    assert names(catalog.tracks(status="missing")) == ["gone"]
    assert names(catalog.tracks(status="failed")) == ["broken"]
    assert catalog.count(tags=["piano"], grades=["C"]) == 1
    with pytest.raises(CantataError, match="unknown quality filter 'shiny'"):
        catalog.tracks(quality=["shiny"])


def test_facet_counts_leave_out_their_own_filter(catalog):
    found = catalog.facets()
    assert found["total"] == 5  # the missing track is not listed
    facets = found["facets"]
    assert counted(facets["status"]) == {"ok": 4, "failed": 1, "missing": 1}
    assert counted(facets["grade"]) == {"A": 1, "C": 3}
    assert counted(facets["tags"]) == {"piano": 2, "vocal": 2, "rock": 1}
    assert [v["value"] for v in facets["tags"]] == ["piano", "vocal", "rock"]  # most first
    assert counted(facets["defect_types"]) == {"click": 2, "dropout": 1}
    assert counted(facets["quality"]) == {"transcoded": 1, "clipped": 1, "too_loud": 1}
    assert counted(facets["loudness"]) == {(None, -30.0): 1, (-23.0, -16.0): 2,
                                           (-12.0, -8.0): 1}
    assert counted(facets["duration"]) == {(60.0, 180.0): 1, (180.0, 300.0): 2,
                                           (600.0, None): 1}
    assert counted(facets["vocal_share"]) == {(None, 0.1): 2, (0.25, 0.5): 1, (0.75, None): 1}

    narrowed = catalog.facets(grades=["C"], tags=["vocal"])
    assert narrowed["total"] == 1  # anthem
    # the grade facet counts the tracks of the other filters (tag vocal): A ballad, C anthem
    assert counted(narrowed["facets"]["grade"]) == {"A": 1, "C": 1}
    # the tags narrow: counted among the tracks matching every filter
    assert counted(narrowed["facets"]["tags"]) == {"rock": 1, "vocal": 1}
    assert counted(narrowed["facets"]["status"]) == {"ok": 1}
    ranged = catalog.facets(duration=(180.0, 300.0), status="ok")
    assert ranged["total"] == 2
    assert counted(ranged["facets"]["duration"]) == {(60.0, 180.0): 1, (180.0, 300.0): 2,
                                                     (600.0, None): 1}
    assert counted(ranged["facets"]["status"]) == {"ok": 2}
    assert catalog.facets(status="missing")["total"] == 1


def test_sorting_by_grade_uses_the_kept_grade(catalog):
    assert catalog.tracks(sort="quality")[0].path == "/lib/ballad.wav"
    assert catalog.tracks(sort="quality", descending=True)[0].path == "/lib/broken.mp3"
    assert catalog.tracks(sort="quality")[-1].path == "/lib/broken.mp3"  # no grade: last


def test_a_new_result_replaces_what_the_old_one_gave(catalog):
    catalog.write_track(TrackFacts("/lib/ballad.wav", "ballad", 1, 1, duration_s=200.0),
                        [Result("tag", "1", "t", "t", {"tags": [], "present": ["rock"]})])
    assert names(catalog.tracks(tags=["rock"])) == ["anthem", "ballad"]
    assert names(catalog.tracks(tags=["piano"])) == ["etude"]
    assert names(catalog.tracks(grades=["A"])) == ["ballad"]  # the assess result stays
    catalog.write_track(TrackFacts("/lib/ballad.wav", "changed", 1, 1, duration_s=200.0))
    assert catalog.tracks(grades=["A"]) == [] and names(catalog.tracks(tags=["rock"])) == [
        "anthem"]
    catalog.remove(catalog.track("/lib/anthem.wav").id)
    assert catalog.facets()["facets"]["tags"] == [{"value": "piano", "tracks": 1}]


def test_migrating_a_v4_catalog_keeps_the_same_facets(tmp_path, monkeypatch):
    from cantata.catalog import db as catalog_db
    from cantata.catalog import schema

    old = tmp_path / "old.db"
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:4])
        m.setattr(schema, "SCHEMA_VERSION", 4)
        m.setattr(catalog_db, "_DERIVED", {})
        with Catalog(old) as catalog:
            write(catalog)
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == 4
    with Catalog(tmp_path / "new.db") as new:
        write(new)
        expected = new.facets(), [t.path for t in new.tracks(sort="quality")]
    with Catalog(old) as migrated:
        assert migrated.schema_found == 4
        assert (migrated.facets(), [t.path for t in migrated.tracks(sort="quality")]) == expected


def test_every_way_of_counting_labels_agrees(catalog):
    """Few tracks matching: their labels looked up; nearly all: the others' subtracted;
    else every label read (``matching`` only picks the way)."""
    from cantata.catalog.db import TrackFilter

    for where in (TrackFilter(), TrackFilter(tags=["vocal"]), TrackFilter(status="missing")):
        ways = [catalog._label_counts(where, matching) for matching in (0, 3, 6)]
        assert ways[0] == ways[1] == ways[2]

