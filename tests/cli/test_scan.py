"""`cantata scan` and `cantata catalog` end to end on the debug models."""

from __future__ import annotations

import json

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


@pytest.mark.slow
def test_a_scan_that_separates_keeps_window_buffers(library, tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr("cantata.allocator.keep_window_buffers", lambda: calls.append(1))
    cli(capsys, "scan", library, "--db", tmp_path / "a.db", "--analyzers", "detect=debug")
    assert calls == []
    cli(capsys, "scan", library, "--db", tmp_path / "b.db", "--analyzers", "separate=debug")
    assert calls == [1]
