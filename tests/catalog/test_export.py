"""Catalog export to JSON Lines and Parquet."""

from __future__ import annotations

import json

import pytest

from cantata.catalog import Catalog, Result, TrackFacts, export
from cantata.files import OutputExistsError
from cantata.types import Segment


@pytest.fixture
def catalog(tmp_path):
    detect = Result("detect", "1", "singing", "m1", {"vocal_s": 1.0},
                    (Segment(1.0, 2.0, "vocal", 0.9),))
    separate = Result("separate", "1", "separator", "s1", stems={"vocals": "/stems/v.flac"})
    with Catalog(tmp_path / "c.db") as c:
        c.write_track(TrackFacts("/lib/a.wav", "h1", 10, 1, duration_s=2.5),
                      [detect, separate])
        c.write_track(TrackFacts("/lib/b.wav", "h2", 10, 1, error="broken"))
        yield c


def test_jsonl_holds_every_track_with_its_results(catalog, tmp_path):
    dest = tmp_path / "out" / "catalog.jsonl"
    assert export(catalog, dest) == 2
    rows = [json.loads(line) for line in dest.read_text().splitlines()]
    assert [r["path"] for r in rows] == ["/lib/a.wav", "/lib/b.wav"]
    assert rows[0]["results"]["detect"]["regions"][0]["label"] == "vocal"
    assert rows[0]["results"]["separate"]["stems"] == {"vocals": "/stems/v.flac"}
    assert rows[1]["status"] == "failed" and rows[1]["results"] == {}
    with pytest.raises(OutputExistsError):
        export(catalog, dest)
    assert export(catalog, dest, overwrite=True) == 2


def test_parquet_round_trip(catalog, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    dest = tmp_path / "catalog.parquet"
    assert export(catalog, dest) == 2
    rows = pq.read_table(dest).to_pylist()
    assert rows[0]["regions"] == [{"analyzer": "detect", "start_s": 1.0, "end_s": 2.0,
                                   "label": "vocal", "confidence": 0.9}]
    assert rows[0]["stems"][0]["path"] == "/stems/v.flac"
    assert json.loads(rows[0]["results_json"])["detect"]["model_version"] == "m1"
    assert rows[1]["error"] == "broken"


def test_unknown_format_is_a_clear_error(catalog, tmp_path):
    with pytest.raises(Exception, match="export format must be jsonl or parquet"):
        export(catalog, tmp_path / "catalog.csv")
    assert not (tmp_path / "catalog.csv").exists()


def test_missing_tracks_are_exported_flagged(catalog, tmp_path):
    catalog.set_missing(["/lib/b.wav"])
    dest = tmp_path / "catalog.jsonl"
    assert export(catalog, dest) == 2
    assert [json.loads(line)["missing"] for line in dest.read_text().splitlines()] == \
        [False, True]
    pq = pytest.importorskip("pyarrow.parquet")
    assert export(catalog, tmp_path / "c.parquet") == 2
    assert [r["missing"] for r in pq.read_table(tmp_path / "c.parquet").to_pylist()] == \
        [False, True]
