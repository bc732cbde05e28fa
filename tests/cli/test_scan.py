"""`cantata scan` and `cantata catalog` end to end on the debug models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from cantata.cli import main
from cantata.testing import noise


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "music"
    (root / "album").mkdir(parents=True)
    for name, rate, channels in (("one.wav", 22050, 2), ("album/two.flac", 16000, 1)):
        wav = noise(duration_s=0.8, sample_rate=rate, n_channels=channels, seed=len(name))
        sf.write(str(root / name), wav.samples.T, rate)
    (root / "album" / "bad.mp3").write_bytes(b"ID3" + b"\x00" * 300)
    return root


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scan_then_read_the_catalog(library, tmp_path, capsys):
    db = tmp_path / "cat.db"
    code, out, err = cli(capsys, "scan", library, "--db", db, "--analyzers",
                         "detect=debug,separate=debug", "--json")
    assert code == 2  # one file failed; the others are in the catalog
    summary = json.loads(out)
    assert (summary["found"], summary["analyzed"], summary["failed"]) == (3, 2, 1)
    assert "bad.mp3" in err and summary["catalog"] == str(db)

    code, out, _ = cli(capsys, "scan", library, "--db", db, "--analyzers",
                       "detect=debug,separate=debug")
    assert code == 0 and "3 (skipped)" in out  # human report; nothing redone

    code, out, _ = cli(capsys, "catalog", "ls", "--db", db, "--json")
    tracks = json.loads(out)
    assert code == 0 and [t["path"].rsplit("/", 1)[1] for t in tracks] == \
        ["bad.mp3", "two.flac", "one.wav"]
    good = [t for t in tracks if t["status"] == "ok"]
    assert all(set(t["results"]) == {"detect", "separate"} for t in good)

    code, out, _ = cli(capsys, "catalog", "ls", "--db", db, "--failed")
    assert code == 0 and "bad.mp3" in out and "one.wav" not in out

    one = next(t for t in tracks if t["path"].endswith("one.wav"))
    code, out, _ = cli(capsys, "catalog", "show", one["id"], "--db", db, "--json")
    shown = json.loads(out)
    assert shown["sample_rate"] == 22050 and shown["channels"] == 2
    stems = shown["results"]["separate"]["stems"]
    assert sf.info(stems["vocals"]).channels == 2
    code, out, _ = cli(capsys, "catalog", "show", library / "one.wav", "--db", db)
    assert code == 0 and "vocals" in out

    code, out, _ = cli(capsys, "catalog", "stats", "--db", db, "--json")
    stats = json.loads(out)
    assert (stats["tracks"], stats["ok"], stats["failed"], stats["scans"]) == (3, 2, 1, 2)

    dest = tmp_path / "export.jsonl"
    code, out, _ = cli(capsys, "catalog", "export", "--db", db, "-o", dest)
    assert code == 0 and len(dest.read_text().splitlines()) == 3
    code, _, err = cli(capsys, "catalog", "export", "--db", db, "-o", dest)
    assert code == 2 and "file exists" in err


@pytest.mark.parametrize(("args", "message"), [
    (["scan", "{lib}", "--analyzers", "tagging"], "unknown analyzer 'tagging'"),
    (["scan", "{lib}", "--analyzers", "detect=nonesuch"], "detect: unknown model 'nonesuch'"),
    (["scan", "{lib}", "--jobs", "0"], "--jobs must be at least 1"),
    (["scan", "{tmp}/missing"], "missing: library folder not found"),
    (["catalog", "ls", "--db", "{tmp}/none.db"], "none.db: no catalog here"),
    (["catalog", "show", "42"], "no track '42'"),
])
def test_bad_input_is_one_clear_line(library, tmp_path, capsys, args, message):
    db = tmp_path / "cat.db"
    if args[0] == "catalog" and "--db" not in args:
        cli(capsys, "scan", library, "--db", db, "--analyzers", "detect=debug")
        args = [*args, "--db", str(db)]
    elif args[0] == "scan":
        args = [*args, "--db", str(db)]
    args = [a.format(lib=library, tmp=tmp_path) for a in args]
    code, _, err = cli(capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_missing_library_creates_nothing(tmp_path, capsys):
    code, _, err = cli(capsys, "scan", tmp_path / "nonexistent", "--db", tmp_path / "new.db")
    assert code == 2 and "nonexistent: library folder not found" in err
    assert sorted(tmp_path.iterdir()) == []


def test_a_resumed_scan_says_how_many_files_are_still_failed(library, tmp_path, capsys):
    db = tmp_path / "cat.db"
    cli(capsys, "scan", library, "--db", db, "--analyzers", "detect=debug")
    code, out, _ = cli(capsys, "scan", library, "--db", db, "--analyzers", "detect=debug")
    assert code == 0 and "1 still failed" in out and "--retry-failed" in out
    code, out, _ = cli(capsys, "scan", library, "--db", db, "--analyzers", "detect=debug",
                       "--json")
    assert json.loads(out)["still_failed"] == 1 and json.loads(out)["failed"] == 0


@pytest.mark.slow
def test_a_scan_that_separates_keeps_window_buffers(library, tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr("cantata.allocator.keep_window_buffers", lambda: calls.append(1))
    cli(capsys, "scan", library, "--db", tmp_path / "a.db", "--analyzers", "detect=debug")
    assert calls == []
    cli(capsys, "scan", library, "--db", tmp_path / "b.db", "--analyzers", "separate=debug")
    assert calls == [1]


def test_a_foreign_database_is_refused_by_every_command(library, tmp_path, capsys):
    import sqlite3

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    for args in (["catalog", "ls"], ["catalog", "stats"], ["catalog", "check"],
                 ["scan", library, "--analyzers", "detect=debug"]):
        code, _, err = cli(capsys, *args, "--db", other)
        assert code == 2 and err.strip().endswith("other.db is not a Cantata catalog"), args
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    from cantata.catalog import CatalogSchemaError
    from cantata.serve import ServeConfig, create_app

    with pytest.raises(CatalogSchemaError, match="other.db is not a Cantata catalog"):
        create_app(ServeConfig(db=other))
    assert other.read_bytes() == before


def damaged_catalog(path, n=300):
    """A real catalog of ``n`` tracks with the middle half of its file overwritten."""
    from cantata.catalog import Catalog, Result, TrackFacts

    with Catalog(path) as catalog:
        for i in range(n):
            catalog.write_track(TrackFacts(f"/lib/{'some-folder/' * 6}{i:04d}.wav", f"h{i}", 1, 1),
                                [Result("detect", "1", "singing", "m1", {"vocal_s": 1.0})])
    data = bytearray(path.read_bytes())
    quarter = len(data) // 4
    data[quarter:3 * quarter] = b"\xa5" * (2 * quarter)
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_catalog_is_one_line_and_check_says_what_sqlite_says(tmp_path, capsys):
    from cantata.catalog import Catalog

    good = tmp_path / "good.db"
    Catalog(good).close()
    code, out, _ = cli(capsys, "catalog", "check", "--db", good)
    assert code == 0 and out.strip().endswith("ok")
    damaged = damaged_catalog(tmp_path / "bad.db")
    lib = tmp_path / "lib"
    lib.mkdir()
    for args in (["catalog", "ls"], ["catalog", "stats"], ["scan", lib]):
        code, _, err = cli(capsys, *args, "--db", damaged)
        assert code == 2 and "bad.db: the catalog is damaged" in err, args
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, out, err = cli(capsys, "catalog", "check", "--db", damaged)
    assert code == 1 and "bad.db: damaged" in err and out.strip()
    code, out, _ = cli(capsys, "catalog", "check", "--db", damaged, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["problems"]


def test_moved_missing_ls_and_prune(library, tmp_path, capsys):
    db = tmp_path / "cat.db"
    analyzers = ["--analyzers", "detect=debug,separate=debug"]
    cli(capsys, "scan", library, "--db", db, *analyzers)
    (library / "one.wav").rename(library / "album" / "one again.wav")
    (library / "album" / "two.flac").unlink()
    code, out, _ = cli(capsys, "scan", library, "--db", db, *analyzers, "--json")
    summary = json.loads(out)
    assert (summary["moved"], summary["missing"], summary["analyzed"]) == (1, 1, 0)
    code, out, _ = cli(capsys, "scan", library, "--db", db, *analyzers)
    assert "catalog ls --missing" not in out  # nothing newly missing
    code, out, _ = cli(capsys, "catalog", "ls", "--db", db, "--json")
    assert sorted(t["path"].rsplit("/", 1)[1] for t in json.loads(out)) == \
        ["bad.mp3", "one again.wav"]
    code, out, _ = cli(capsys, "catalog", "ls", "--db", db, "--missing", "--json")
    missing = json.loads(out)
    assert [t["path"].rsplit("/", 1)[1] for t in missing] == ["two.flac"]
    assert missing[0]["missing"] is True
    stems = missing[0]["results"]["separate"]["stems"].values()
    code, out, _ = cli(capsys, "catalog", "ls", "--db", db)
    assert "1 missing" in out and "--missing" in out
    code, out, _ = cli(capsys, "catalog", "stats", "--db", db, "--json")
    assert json.loads(out)["missing"] == 1
    code, out, _ = cli(capsys, "catalog", "prune", "--db", db)
    assert code == 0 and "1 missing track" in out and "2 stem file" in out
    assert not any(Path(p).exists() for p in stems)
    code, out, _ = cli(capsys, "catalog", "prune", "--db", db, "--json")
    assert json.loads(out) == {"catalog": str(db), "tracks": 0, "files": 0}
