"""`cantata embed` and `cantata search` end to end on the debug embedder."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import soundfile as sf

from cantata.cli import main
from cantata.testing import write_search_library

RATE = 16000


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return write_search_library(tmp_path_factory.mktemp("music"), sample_rate=RATE)


@pytest.fixture(scope="module")
def db(library, tmp_path_factory):
    path = tmp_path_factory.mktemp("cat") / "cat.db"
    assert main(["scan", str(library), "--db", str(path), "--analyzers", "embed=debug",
                 "--backend", "inline", "-q"]) == 0
    return path


def test_embed_prints_a_summary_and_writes_npz_files(library, tmp_path, capsys):
    files = [library / "tones.wav", library / "sweeps.wav"]
    code, out, _ = cli(capsys, "embed", *files, "--model", "debug", "--json")
    assert code == 0
    first = json.loads(out)[0]
    assert first.pop("segments") >= 5  # every 1.5 s, and one more ending with the file
    assert first == {"file": str(files[0]), "model": "debug", "model_version": "debug",
                     "duration_s": 9.0, "dim": 8, "segment_s": 3.0, "hop_s": 1.5,
                     "npz": None}
    dest = tmp_path / "emb"
    code, out, _ = cli(capsys, "embed", *files, "--model", "debug", "-o", dest, "--hop", "3")
    assert code == 0 and "segments of 3 s every 3 s, dim 8" in out
    with np.load(dest / "tones.npz") as saved:
        n = len(saved["starts_s"])
        assert saved["vectors"].shape == (n, 8) and saved["vectors"].dtype == np.float32
        assert saved["starts_s"][:3].tolist() == [0.0, 3.0, 6.0]
        assert str(saved["model_version"]) == "debug" and float(saved["hop_s"]) == 3.0
    code, _, err = cli(capsys, "embed", files[0], "--model", "debug", "-o", dest)
    assert code == 2 and "tones.npz: file exists (use --overwrite" in err
    code, _, _ = cli(capsys, "embed", files[0], "--model", "debug", "-o", dest, "--overwrite")
    assert code == 0 and not list(dest.glob(".*.part"))


def test_embed_bad_input(library, tmp_path, capsys):
    (tmp_path / "junk.mp3").write_bytes(b"ID3" + b"\x00" * 200)
    code, out, err = cli(capsys, "embed", tmp_path / "missing.wav", tmp_path / "junk.mp3",
                         library / "tones.wav", "--model", "debug", "--json")
    assert code == 2 and "missing.wav: no such file" in err and "junk.mp3" in err
    rows = json.loads(out)
    assert [("error" in r) for r in rows] == [True, True, False]
    code, _, err = cli(capsys, "embed", library / "tones.wav", "--model", "/no/such.pt")
    assert code == 2 and "such.pt" in err


def test_search_finds_the_song_a_clip_comes_from(library, db, tmp_path, capsys):
    clip = tmp_path / "clip.wav"
    x, _ = sf.read(str(library / "tones.wav"), start=3 * RATE, stop=8 * RATE)
    sf.write(str(clip), x, RATE)
    code, out, _ = cli(capsys, "search", clip, "--db", db, "-k", "2", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["model_version"] == "debug" and report["query_segments"] >= 2
    assert report["index"]["kind"] == "exact" and report["index"]["tracks"] == 3
    assert report["index"]["rebuilt"] is True and report["duration_s"] == 5.0
    best = report["matches"][0]
    assert best["rank"] == 1 and best["path"].endswith("tones.wav")
    assert best["track_s"] - best["query_s"] == pytest.approx(3.0, abs=0.05)
    assert len(report["matches"]) == 2 and set(report["seconds"]) == {"embed", "index",
                                                                      "search"}
    code, out, _ = cli(capsys, "search", clip, "--db", db, "--model", "debug",
                       "--variations", "2", "--sigma", "0.3", "--json")
    again = json.loads(out)
    assert code == 0 and again["index"]["rebuilt"] is False  # the saved index is current
    assert [v["variation"] for v in again["variations"]] == [1, 2]
    assert len(again["variations"][0]["matches"]) == 3
    code, out, _ = cli(capsys, "search", clip, "--db", db)
    assert code == 0 and "tones.wav" in out and "exact index" in out


def test_search_errors_are_clear(library, db, tmp_path, capsys):
    clip = library / "tones.wav"
    code, _, err = cli(capsys, "search", tmp_path / "missing.wav", "--db", db)
    assert code == 2 and "missing.wav: no such file" in err
    code, _, err = cli(capsys, "search", clip, "--db", tmp_path / "none.db")
    assert code == 2 and "no catalog here" in err
    plain = tmp_path / "plain.db"
    assert main(["scan", str(library), "--db", str(plain), "--analyzers", "detect=debug",
                 "--backend", "inline", "-q"]) == 0
    code, _, err = cli(capsys, "search", clip, "--db", plain)
    assert code == 2 and "holds no embeddings" in err and "--analyzers embed" in err
    own = tmp_path / "own.pt"
    own.write_bytes(b"not a checkpoint")
    code, _, err = cli(capsys, "search", clip, "--db", db, "--model", own)
    assert code == 2 and "own.pt" in err
    code, _, err = cli(capsys, "search", "--db", db)
    assert code == 2 and "--record SECONDS" in err
    code, _, err = cli(capsys, "search", clip, "--db", db, "-k", "0")
    assert code == 2 and "-k must be at least 1" in err


def test_record_without_a_microphone_is_a_clear_error(db, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails
    code, _, err = cli(capsys, "search", "--record", "5", "--db", db)
    assert code == 2 and "--record needs microphone support: pip install sounddevice" in err


def test_search_with_a_part_of_a_longer_file(library, db, capsys):
    code, out, _ = cli(capsys, "search", library / "tones.wav", "--start", "3",
                       "--duration", "5", "--db", db, "-k", "1", "--json")
    report = json.loads(out)
    assert code == 0 and report["duration_s"] == 5.0
    best = report["matches"][0]
    assert best["path"].endswith("tones.wav")
    assert best["track_s"] - best["query_s"] == pytest.approx(3.0, abs=0.05)
    code, _, err = cli(capsys, "search", library / "tones.wav", "--start", "99",
                       "--db", db)
    assert code == 2 and "past the end" in err
