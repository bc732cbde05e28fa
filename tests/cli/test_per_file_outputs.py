"""Per-input result files: names kept apart, and one clear line for unwritable outputs."""

from __future__ import annotations

import json
import os
import tempfile

import pytest
import soundfile as sf

from cantata.cli import main
from cantata.testing import noise


def write(folder, name="song.wav", seconds=1.0, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    sf.write(str(path), noise(duration_s=seconds, sample_rate=16000, seed=seed).samples.T, 16000)
    return path


@pytest.fixture
def twins(tmp_path):
    """Two inputs of one name in two folders, and a third named like the second's new name."""
    return [write(tmp_path / "a"), write(tmp_path / "b", seed=1),
            write(tmp_path / "c", "song-2.wav", seed=2)]


def test_detect_names_colliding_results_apart(twins, tmp_path, capsys):
    out = tmp_path / "X"
    args = ["detect", *map(str, twins), "--model", "debug", "-o", str(out), "--overwrite"]
    assert main(args) == 0
    written = {p.name: json.loads(p.read_text())["file"] for p in out.iterdir()}
    assert written == {"song.json": str(twins[0]), "song-2.json": str(twins[1]),
                       "song-2-2.json": str(twins[2])}
    assert "wrote 3 result files" in capsys.readouterr().out
    assert main(args) == 0  # deterministic: the same names again
    assert {p.name: json.loads(p.read_text())["file"] for p in out.iterdir()} == written


def test_detect_plots_are_named_apart(twins, tmp_path):
    out = tmp_path / "X"
    assert main(["detect", *map(str, twins[:2]), "--model", "debug", "-o", str(out),
                 "--plot"]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["song-2.png", "song.png"]


def test_embed_names_colliding_npz_apart(twins, tmp_path, capsys):
    out = tmp_path / "E"
    assert main(["embed", *map(str, twins[:2]), "--model", "debug", "-o", str(out),
                 "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["npz"] for r in results] == [str(out / "song.npz"), str(out / "song-2.npz")]
    assert sorted(p.name for p in out.iterdir()) == ["song-2.npz", "song.npz"]


@pytest.mark.parametrize("command", [["info"], ["detect", "--model", "debug"],
                                     ["embed", "--model", "debug"],
                                     ["separate", "--model", "debug", "-o", "S"]])
def test_a_file_name_over_255_bytes_is_one_line(command, tmp_path, capsys):
    code = main([*command, str(tmp_path / ("x" * 300 + ".wav"))])
    err = capsys.readouterr().err
    assert code == 2 and "xxxx" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_detect_output_name_near_the_limit(tmp_path, capsys):
    path = write(tmp_path, "y" * 240 + ".wav")
    assert main(["detect", str(path), "--model", "debug", "-o", str(tmp_path / "O")]) == 0
    assert (tmp_path / "O" / ("y" * 240 + ".json")).exists()
    long_path = write(tmp_path, "z" * 251 + ".wav")  # its .json name is over 255 bytes
    assert main(["detect", str(long_path), "--model", "debug", "-o", str(tmp_path / "O")]) == 2
    err = capsys.readouterr().err
    assert "zzzz" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", ["detect", "embed"])
def test_output_folder_that_is_a_file(command, tmp_path, capsys):
    path, taken = write(tmp_path), tmp_path / "taken"
    taken.write_text("mine")
    assert main([command, str(path), "--model", "debug", "-o", str(taken)]) == 2
    err = capsys.readouterr().err
    assert str(taken) in err and "not a folder" in err and len(err.strip().splitlines()) == 1
    assert taken.read_text() == "mine"


@pytest.mark.parametrize("command", ["detect", "embed"])
def test_read_only_output_folder(command, tmp_path, capsys, monkeypatch):
    path, locked = write(tmp_path), tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: fail as the kernel would for a user
        def refuse(*args, dir=None, **kwargs):
            raise PermissionError(13, "Permission denied", os.path.join(dir, "x.part"))
        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        assert main([command, str(path), "--model", "debug", "-o", str(locked)]) == 2
    finally:
        locked.chmod(0o755)
    err = capsys.readouterr().err
    assert str(locked) in err and "ermission denied" in err
    assert len(err.strip().splitlines()) == 1 and not list(locked.iterdir())


def test_names_apart_keeps_order_and_given_names():
    from pathlib import Path

    from cantata.cli.inputs import names_apart

    files = ["a/song.wav", "c/song-2.mp3", "b/song.flac", "d/other.wav", "e/song.wav"]
    assert names_apart(files) == {"a/song.wav": "song", "b/song.flac": "song-3",
                                  "c/song-2.mp3": "song-2", "d/other.wav": "other",
                                  "e/song.wav": "song-4"}
    assert names_apart([Path("x.wav")]) == {Path("x.wav"): "x"}
