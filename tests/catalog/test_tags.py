"""Tags in the catalog: ``Catalog.tracks(tags=...)``, the tag facet, ``catalog ls --tag``
and ``catalog show``, over results as the ``tag`` analyzer stores them."""

from __future__ import annotations

import json

import pytest

from cantata.catalog import Catalog, Result, TrackFacts
from cantata.cli import main

VOCABULARY = ("piano", "guitar", "rock", "vocal")


def tag_result(scores):
    """A ``tag`` result as the analyzer stores it: every tag ranked, the present ones."""
    ranked = sorted(({"tag": t, "score": s, "present": s >= 0.5}
                     for t, s in zip(VOCABULARY, scores, strict=True)),
                    key=lambda t: -t["score"])
    return Result("tag", "1", "debug", "debug",
                  {"tags": ranked, "present": [t["tag"] for t in ranked if t["present"]]})


@pytest.fixture
def tagged_catalog(tmp_path):
    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        for name, scores in [("ballad.wav", (0.9, 0.2, 0.1, 0.8)),
                             ("anthem.wav", (0.1, 0.95, 0.9, 0.7)),
                             ("etude.wav", (0.99, 0.1, 0.05, 0.1)),
                             ("gone.wav", (0.9, 0.1, 0.1, 0.1))]:
            catalog.write_track(TrackFacts(f"/lib/{name}", name, 1, 1, duration_s=3.0),
                                [tag_result(scores)])
        catalog.write_track(TrackFacts("/lib/untagged.wav", "u", 1, 1, duration_s=3.0))
        catalog.set_missing(["/lib/gone.wav"])
    return db


def names(tracks):
    return sorted(t.path.rsplit("/", 1)[1] for t in tracks)


def test_tracks_with_all_the_tags_present(tagged_catalog):
    with Catalog(tagged_catalog, create=False) as catalog:
        assert names(catalog.tracks(tags=["piano"])) == ["ballad.wav", "etude.wav"]
        assert names(catalog.tracks(tags=["piano", "vocal"])) == ["ballad.wav"]
        assert names(catalog.tracks(tags=["vocal", "vocal"])) == ["anthem.wav", "ballad.wav"]
        assert catalog.tracks(tags=["piano", "rock"]) == []
        assert catalog.tracks(tags=["jazz"]) == []  # scored nowhere
        assert names(catalog.tracks(tags=["piano"], missing=None)) == [
            "ballad.wav", "etude.wav", "gone.wav"]
        assert catalog.count(tags=["piano"]) == 2 and catalog.count(tags=["vocal"]) == 2
        assert names(catalog.tracks(tags=["vocal"], search="ball")) == ["ballad.wav"]


def test_tag_facet_counts_the_listed_tracks(tagged_catalog):
    with Catalog(tagged_catalog, create=False) as catalog:
        assert catalog.tag_counts() == {"piano": 2, "vocal": 2, "guitar": 1, "rock": 1}
        assert list(catalog.tag_counts()) == ["piano", "vocal", "guitar", "rock"]
        assert catalog.tag_counts(tags=["vocal"]) == {"vocal": 2, "guitar": 1, "piano": 1,
                                                      "rock": 1}
        assert catalog.tag_counts(search="etude") == {"piano": 1}
        assert catalog.tag_counts(missing=True) == {"piano": 1}
        assert catalog.tag_vocabulary() == sorted(VOCABULARY)
    with Catalog(tagged_catalog.parent / "empty.db") as empty:
        assert empty.tag_counts() == {} and empty.tag_vocabulary() == []


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_catalog_ls_tag_and_show(tagged_catalog, capsys):
    def listed(*args):
        code, out, _ = cli(capsys, "catalog", "ls", "--db", tagged_catalog, "--json", *args)
        assert code == 0
        return sorted(t["path"].rsplit("/", 1)[1] for t in json.loads(out))

    assert listed("--tag", "piano") == ["ballad.wav", "etude.wav"]
    assert listed("--tag", "piano", "--tag", "vocal") == ["ballad.wav"]
    assert listed("--tag", "rock", "--tag", "piano") == []
    code, out, _ = cli(capsys, "catalog", "ls", "--db", tagged_catalog, "--tag", "guitar")
    assert code == 0 and "1 track" in out and "guitar, rock, vocal" in out
    code, _, err = cli(capsys, "catalog", "ls", "--db", tagged_catalog, "--tag", "jazz")
    assert code == 2 and "no tag 'jazz'" in err and "known: guitar, piano, rock, vocal" in err

    code, out, _ = cli(capsys, "catalog", "show", "--db", tagged_catalog, "1")
    assert code == 0 and "piano 0.90, vocal 0.80" in out and "guitar 0.20" in out
    code, out, _ = cli(capsys, "catalog", "show", "--db", tagged_catalog, "1", "--json")
    assert json.loads(out)["results"]["tag"]["summary"]["present"] == ["piano", "vocal"]


def test_catalog_ls_tag_without_tag_results(tmp_path, capsys):
    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        catalog.write_track(TrackFacts("/lib/a.wav", "a", 1, 1, duration_s=1.0))
    code, _, err = cli(capsys, "catalog", "ls", "--db", db, "--tag", "piano")
    assert code == 2 and "holds no tag results" in err


def test_vocabulary_joins_every_taggers_tags(tagged_catalog):
    other = Result("tag", "1", "other", "other-1234",
                   {"tags": [{"tag": "jazz", "score": 0.7, "present": True}],
                    "present": ["jazz"]})
    with Catalog(tagged_catalog) as catalog:
        catalog.write_track(TrackFacts("/lib/swing.wav", "s", 1, 1, duration_s=3.0), [other])
        assert catalog.tag_vocabulary() == sorted([*VOCABULARY, "jazz"])
        assert names(catalog.tracks(tags=["jazz"])) == ["swing.wav"]


def test_sort_by_what_the_analyzers_found(tmp_path):
    """Sort keys read from results: tags present, seconds of singing, stems."""
    from cantata.catalog.db import SORT_COLUMNS
    from cantata.cli.catalog import SORT_KEYS

    assert SORT_KEYS == list(SORT_COLUMNS)
    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        for name, scores, vocal, stems in [("two.wav", (0.9, 0.2, 0.1, 0.8), 12.0, 1),
                                           ("three.wav", (0.6, 0.95, 0.9, 0.1), 3.5, 0),
                                           ("none.wav", (0.1, 0.1, 0.1, 0.1), 0.0, 2)]:
            detect = Result("detect", "1", "debug", "debug", {"vocal_s": vocal})
            separate = Result("separate", "1", "debug", "debug", stems={
                s: f"/stems/{name}/{s}.flac" for s in ("vocals", "accompaniment")[:stems]})
            catalog.write_track(TrackFacts(f"/lib/{name}", name, 1, 1, duration_s=3.0),
                                [tag_result(scores), detect, separate])
        catalog.write_track(TrackFacts("/lib/bare.wav", "b", 1, 1, duration_s=3.0))
        by = {key: [t.path.rsplit("/", 1)[-1] for t in catalog.tracks(sort=key, descending=True)]
              for key in ("tags", "vocal_s", "stems")}
    assert by["tags"] == ["three.wav", "two.wav", "none.wav", "bare.wav"]
    assert by["vocal_s"] == ["two.wav", "three.wav", "none.wav", "bare.wav"]
    assert by["stems"] == ["none.wav", "two.wav", "three.wav", "bare.wav"]
