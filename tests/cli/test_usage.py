"""Command-line usability: folders as inputs, own usage, model lists, quiet, plain output."""

from __future__ import annotations

import io
import json

import pytest
import soundfile as sf
from rich.console import Console

from cantata.cli import main
from cantata.testing import noise


def write(folder, name="song.wav", seconds=1.0, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    sf.write(str(path), noise(duration_s=seconds, sample_rate=16000, seed=seed).samples.T, 16000)
    return path


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def album(tmp_path):
    folder = tmp_path / "album"
    return folder, [write(folder / "cd1", "one.wav"), write(folder, "two.flac", seed=1)]


@pytest.mark.parametrize("command", [["info"], ["detect", "--model", "debug"],
                                     ["embed", "--model", "debug"]])
def test_folders_as_inputs(command, album, capsys):
    folder, songs = album
    code, out, _ = cli(capsys, *command, folder, "--json")
    assert code == 0
    assert [r["file"] for r in json.loads(out)] == sorted(map(str, songs))


def test_an_empty_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = cli(capsys, "detect", tmp_path / "empty", "--model", "debug")
    assert code == 2 and "empty: no audio files in this folder" in err


@pytest.mark.parametrize("argv", [["detect", "x.wav", "--bogus"], ["info", "--bogus", "x.wav"],
                                  ["catalog", "ls", "--bogus"]])
def test_a_bad_flag_shows_the_subcommands_own_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    prog = "cantata " + " ".join(a for a in argv[:2] if a in ("detect", "info", "catalog", "ls"))
    assert exit_.value.code == 2 and f"usage: {prog} " in err and "--bogus" in err


@pytest.mark.parametrize("argv", [
    ["detect", "{song}", "--model", "nope"],
    ["detect", "--live", "{song}", "--fast", "--model", "nope"],
    ["detect", "--karaoke", "{song}", "{song}", "--model", "nope"],
    ["embed", "{song}", "--model", "nope"],
    ["separate", "{song}", "-o", "{tmp}/s", "--model", "nope"],
    ["separate", "{song}", "-o", "{tmp}/s", "--model", "debug", "--gate", "--gate-model", "nope"],
])
def test_an_unknown_model_lists_the_available_ones(argv, tmp_path, capsys):
    song = write(tmp_path)
    code, _, err = cli(capsys, *[a.format(song=song, tmp=tmp_path) for a in argv])
    assert code == 2 and "unknown model 'nope'" in err and "available: " in err
    assert "debug" in err and len(err.strip().splitlines()) == 1


def test_quiet_silences_summaries(tmp_path, capsys, monkeypatch):
    song = write(tmp_path)
    code, out, err = cli(capsys, "detect", song, "--model", "debug", "-o", tmp_path / "o",
                         "--plot", "-q")
    assert code == 0 and out == "" and err == ""
    code, out, _ = cli(capsys, "detect", song, "--model", "debug", "-o", tmp_path / "o",
                       "--overwrite")
    assert code == 0 and "wrote 1 result file to" in out
    code, out, err = cli(capsys, "embed", song, "--model", "debug", "-o", tmp_path / "e", "-q")
    assert code == 0 and out == "" and err == "" and (tmp_path / "e" / "song.npz").exists()


def test_csv_without_out_prints_csv(tmp_path, capsys):
    one, two = write(tmp_path, "one.wav"), write(tmp_path, "two.wav", seed=1)
    code, out, _ = cli(capsys, "detect", one, "--model", "debug", "--format", "csv")
    assert code == 0 and out.startswith("start,end,label,confidence\n")
    assert all(len(line.split(",")) == 4 for line in out.splitlines())
    code, out, _ = cli(capsys, "detect", one, two, "--model", "debug", "--format", "csv")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "file,start,end,label,confidence"
    assert {line.split(",")[0] for line in lines[1:]} <= {str(one), str(two)}
    code, _, err = cli(capsys, "detect", one, two, "--model", "debug", "--format", "audacity")
    assert code == 2 and "one file" in err


def test_plot_without_out_says_where_it_wrote(tmp_path, capsys, monkeypatch):
    song = write(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "detect", song, "--model", "debug", "--plot")
    assert code == 0 and "plot: song.png" in out and (tmp_path / "song.png").exists()


def test_counts_in_the_right_number():
    from cantata.cli.detect import _summary
    from cantata.cli.output import plural

    assert plural(1, "region") == "1 region" and plural(2, "region") == "2 regions"
    assert plural(0, "stretch", "stretches") == "0 stretches"
    one = {"file": "a.wav", "regions": [{"start": 0.0, "end": 1.0, "label": "vocal"}]}
    assert "1 region (vocal 1.0 s)" in _summary(one)


def test_a_spinner_while_the_model_loads():
    from cantata.cli.output import Output

    out = Output()
    out.err_console = Console(file=io.StringIO(), force_terminal=True, width=80)
    with out.loading("the detector"):
        pass
    assert "loading the detector" in out.err_console.file.getvalue()
    quiet = Output(quiet=True)
    quiet.err_console = Console(file=io.StringIO(), force_terminal=True, width=80)
    with quiet.loading("the detector"):
        pass
    assert quiet.err_console.file.getvalue() == ""


def test_an_unchanged_rescan_says_nothing_to_do(album, tmp_path, capsys):
    folder, _ = album
    argv = ["scan", folder, "--db", tmp_path / "cat.db", "--analyzers", "detect=debug",
            "--backend", "inline"]
    code, out, _ = cli(capsys, *argv)
    assert code == 0 and "tracks/hour" in out
    code, out, _ = cli(capsys, *argv)
    assert code == 0 and "nothing to do" in out and "tracks/hour" not in out


def test_the_clipping_warning_names_the_song_not_its_stem_folder(tmp_path, caplog):
    import logging

    import numpy as np

    from cantata.engine.overlap_add import EngineConfig
    from cantata.separate.api import Separator
    from cantata.testing.separators import GainSeparator

    song = tmp_path / "loud song.wav"
    sf.write(str(song), np.full(4000, 0.9, np.float32), 16000, subtype="FLOAT")
    engine = EngineConfig(window_s=0.5, overlap_s=0.1, edge_s=0.02, min_window_s=0.05)
    sep = Separator(GainSeparator(gain=1.5), engine=engine)  # vocals over full scale
    with caplog.at_level(logging.WARNING):
        sep.separate_to_files(song, tmp_path / "0f3a9c", filename="{stem}.{ext}")
    assert f"{song}: " in caplog.text and "0f3a9c" not in caplog.text


def test_quiet_silences_the_separate_table(tmp_path, capsys):
    song = write(tmp_path)
    code, out, err = cli(capsys, "separate", song, "--model", "debug", "-o", tmp_path / "s",
                         "-q")
    assert code == 0 and out == "" and err == "" and (tmp_path / "s" / "song").is_dir()
