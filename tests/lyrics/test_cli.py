"""`cantata lyrics align` end to end with the debug separator and detector."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from cantata.cli import main

RATE = 16000
LYRICS = "[00:01.00]one two three\n\nfour five\n"


@pytest.fixture
def song(tmp_path, sung):
    path = tmp_path / "songs" / "song.wav"
    path.parent.mkdir()
    sf.write(path, sung([0.5, 1.0, 1.5, 2.5, 3.0]), RATE)
    (tmp_path / "songs" / "song.txt").write_text(LYRICS, encoding="utf-8")
    return path


def cli(capsys, *args):
    code = main(["lyrics", "align", *map(str, args), "--model", "debug"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_lrc_and_srt_files(song, tmp_path, capsys):
    lyrics = song.with_suffix(".txt")
    code, _, _ = cli(capsys, song, lyrics, "-o", tmp_path / "out.json", "--language", "en")
    result = json.loads((tmp_path / "out.json").read_text())
    assert code == 0 and result["file"] == str(song) and result["language"] == "en"
    assert [ln["text"] for ln in result["lines"]] == ["one two three", "four five"]
    assert [len(ln["words"]) for ln in result["lines"]] == [3, 2]
    code, _, _ = cli(capsys, song, lyrics, "-o", tmp_path / "out.lrc", "--words")
    lrc = (tmp_path / "out.lrc").read_text().splitlines()
    assert code == 0 and len(lrc) == 2 and lrc[0].count("<") == 4
    assert lrc[0].startswith("[") and "<" in lrc[0] and "one" in lrc[0]
    code, _, _ = cli(capsys, song, "-o", tmp_path / "out.srt")  # the .txt beside the song
    srt = (tmp_path / "out.srt").read_text()
    assert code == 0 and srt.startswith("1\n00:00:") and "\n2\n" in srt


def test_printed_lrc_and_json(song, capsys):
    code, out, _ = cli(capsys, song)
    assert code == 0 and out.splitlines()[1].endswith("]four five")
    code, out, _ = cli(capsys, song, "--json")
    assert code == 0 and json.loads(out)["lines"][1]["text"] == "four five"


def test_a_folder_of_songs(song, tmp_path, capsys):
    sf.write(song.parent / "instrumental.wav", [0.0] * RATE, RATE)  # no lyrics: skipped
    code, _, err = cli(capsys, song.parent, "-o", tmp_path / "res", "--format", "lrc")
    assert code == 0 and (tmp_path / "res" / "song.lrc").is_file()
    assert "instrumental.wav: no lyrics file beside it" in err
    assert not (tmp_path / "res" / "instrumental.lrc").exists()


def test_refusals(song, tmp_path, capsys):
    out = tmp_path / "out.lrc"
    out.write_text("mine")
    code, _, err = cli(capsys, song, "-o", out)
    assert code == 2 and "file exists (use --overwrite" in err and out.read_text() == "mine"
    assert cli(capsys, song, "-o", out, "--overwrite")[0] == 0 and out.read_text() != "mine"
    code, _, err = cli(capsys, song, "-o", tmp_path / "out.txt")
    assert code == 2 and "-o takes a .lrc, .json or .srt file" in err
    code, _, err = cli(capsys, song.parent)
    assert code == 2 and "needs -o DIR" in err


def test_bad_input_names_the_file(song, tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n[Chorus]\n")
    code, _, err = cli(capsys, song, empty)
    assert code == 2 and f"{empty}: no words to align" in err
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    code, _, err = cli(capsys, bad, song.with_suffix(".txt"))
    assert code == 2 and str(bad) in err
    code, _, err = cli(capsys, song, tmp_path / "missing.txt")
    assert code == 2 and "missing.txt: cannot read the lyrics" in err
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café".encode("latin-1"))
    code, _, err = cli(capsys, song, latin)
    assert code == 2 and "latin.txt: not UTF-8 text" in err
