"""`cantata defects` end to end on the debug model, and `cantata catalog ls --defective`."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from cantata.analyzers import Result
from cantata.catalog import Catalog, TrackFacts
from cantata.cli import main
from cantata.data.labels import DEFECT_TYPES
from cantata.testing import noise
from cantata.types import Segment

#: what the debug model finds in write()'s noise (random weights, but fixed ones); its
#: clicks and jumps lie inside its clipping events, so they are resolved away as corners
DEBUG_TYPES = {"clipping", "noise_burst", "dc_offset"}


def write(folder, name="song.wav", seconds=2.0, seed=1):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), noise(duration_s=seconds, sample_rate=16000, seed=seed).samples.T, 16000)
    return path


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_per_input_in_the_issues_shape(tmp_path, capsys):
    path = write(tmp_path, seconds=1.5)
    code, out, _ = cli(capsys, "defects", path, "--model", "debug", "--json")
    (result,) = json.loads(out)
    assert code == 0 and set(result) == {"file", "model", "duration_s", "events", "verdict"}
    assert (result["file"], result["model"], result["duration_s"]) == (str(path), "debug", 1.5)
    assert {e["type"] for e in result["events"]} == DEBUG_TYPES
    for event in result["events"]:
        assert set(event) == {"type", "start", "end", "start_s", "end_s", "confidence"}
        assert (event["start"], event["end"]) == (event["start_s"], event["end_s"])
        assert 0 <= event["start"] < event["end"] <= 1.5 and 0 <= event["confidence"] <= 1
    verdict = result["verdict"]
    assert set(verdict) == {"defective", "types", "score"} and verdict["defective"] is True
    assert list(verdict["types"]) == list(DEFECT_TYPES)
    assert sum(verdict["types"].values()) == len(result["events"])


def test_types_keeps_only_the_types_asked_for(tmp_path, capsys):
    path = write(tmp_path)
    code, out, _ = cli(capsys, "defects", path, "--model", "debug", "--json",
                       "--types", "dc_offset", "clipping")
    (result,) = json.loads(out)
    assert code == 0 and {e["type"] for e in result["events"]} == {"dc_offset", "clipping"}
    assert result["verdict"]["types"] == {"dc_offset": 1, "clipping": 1}
    code, _, err = cli(capsys, "defects", path, "--model", "debug", "--types", "crackle")
    assert code == 2 and "unknown defect type 'crackle'" in err and "click" in err
    code, _, err = cli(capsys, "defects", "--model", "debug", "--types", "click", path)
    assert code == 2 and f"unknown defect type '{path}'" in err and "after the files" in err
    code, out, _ = cli(capsys, "defects", path, "--model", "debug", "--json",
                       "--types", "noise_burst,dropout")
    assert json.loads(out)[0]["verdict"]["types"] == {"noise_burst": 1, "dropout": 0}


def test_a_folder_gives_result_files_in_every_format_named_apart(tmp_path, capsys):
    lib = tmp_path / "lib"
    write(lib, "a/song.wav", seed=1)
    write(lib, "b/song.wav", seed=2)
    out = tmp_path / "out"
    for fmt, suffix in [("json", "json"), ("csv", "csv"), ("audacity", "txt")]:
        code, stdout, _ = cli(capsys, "defects", lib, "--model", "debug", "-o", out,
                              "--format", fmt)
        assert code == 0 and "wrote 2 result files" in stdout
        assert (out / f"song.{suffix}").exists() and (out / f"song-2.{suffix}").exists()
    first = json.loads((out / "song.json").read_text())
    assert first["file"] == str(lib / "a" / "song.wav") and first["events"]
    csv_lines = (out / "song.csv").read_text().splitlines()
    assert csv_lines[0] == "start,end,type,confidence"
    assert len(csv_lines) == 1 + len(first["events"])
    labels = (out / "song.txt").read_text().splitlines()
    assert [line.split("\t")[2] for line in labels] == [e["type"] for e in first["events"]]


def test_no_silent_overwrite(tmp_path, capsys):
    path = write(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "song.json").write_text("mine")
    code, _, err = cli(capsys, "defects", path, "--model", "debug", "-o", out)
    assert code == 2 and "song.json" in err and "file exists" in err
    assert (out / "song.json").read_text() == "mine"
    code, _, _ = cli(capsys, "defects", path, "--model", "debug", "-o", out, "--overwrite")
    assert code == 0 and json.loads((out / "song.json").read_text())["file"] == str(path)


def test_tables_without_o_and_csv_or_audacity_on_stdout(tmp_path, capsys):
    path = write(tmp_path)
    code, out, _ = cli(capsys, "defects", path, "--model", "debug")
    assert code == 0 and f"{path}: defective" in out and "noise_burst" in out
    other = write(tmp_path, "other.wav", seed=2)
    code, out, _ = cli(capsys, "defects", path, other, "--model", "debug", "--format", "csv")
    assert code == 0 and out.startswith("file,start,end,type,confidence\n")
    assert {line.split(",")[0] for line in out.splitlines()[1:]} == {str(path), str(other)}
    code, out, _ = cli(capsys, "defects", path, "--model", "debug", "--format", "audacity")
    assert code == 0 and out.count("\t") == 2 * len(out.splitlines())


def test_bad_inputs_are_one_line_each_and_the_rest_go_on(tmp_path, capsys):
    good = write(tmp_path)
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"ID3" + b"\x00" * 300)
    code, out, err = cli(capsys, "defects", bad, good, "--model", "debug", "--json", "-q")
    assert code == 2 and [r["file"] for r in json.loads(out)] == [str(good)]
    assert len(err.strip().splitlines()) == 1 and "bad.mp3" in err
    code, _, err = cli(capsys, "defects", good, "--model", "nonesuch")
    assert code == 2 and "defects: unknown model 'nonesuch'" in err
    code, _, err = cli(capsys, "defects", good, "-o", good)
    assert code == 2 and "not a folder" in err


def test_plot(tmp_path, capsys):
    path = write(tmp_path)
    code, out, _ = cli(capsys, "defects", path, "--model", "debug", "-o", tmp_path / "o",
                       "--plot")
    assert code == 0 and (tmp_path / "o" / "song.png").read_bytes()[:4] == b"\x89PNG"
    assert "plot:" in out


@pytest.mark.slow
def test_a_trained_checkpoint(tmp_path, capsys):
    run = tmp_path / "run"
    code, _, err = cli(capsys, "train", "defects", "--config", "configs/defects/debug.yaml",
                       "--out", run, "-q")
    assert code == 0, err
    path = write(tmp_path)
    code, out, _ = cli(capsys, "defects", path, "--model", run / "best.pt", "--json")
    (result,) = json.loads(out)
    assert code == 0 and result["model"] == str(run / "best.pt")
    assert list(result["verdict"]["types"]) == list(DEFECT_TYPES)


def defects_result(events):
    types = dict.fromkeys(DEFECT_TYPES, 0)
    for name, *_ in events:
        types[name] += 1
    return Result("defects", "1", "debug", "debug",
                  {"defective": bool(events), "score": 0.9 if events else 0.1, "types": types,
                   "events": len(events)},
                  tuple(Segment(s, e, name, 0.9) for name, s, e in events))


@pytest.fixture
def defect_catalog(tmp_path):
    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        for name, events in [("clicks.wav", [("click", 1.0, 1.002), ("click", 2.0, 2.001)]),
                             ("clipped.wav", [("clipping", 0.5, 0.9)]),
                             ("clean.wav", [])]:
            catalog.write_track(TrackFacts(f"/lib/{name}", name, 1, 1, duration_s=3.0),
                                [defects_result(events)])
        catalog.write_track(TrackFacts("/lib/unscanned.wav", "u", 1, 1, duration_s=3.0))
    return db


def test_catalog_ls_defective_and_by_type(defect_catalog, capsys):
    def listed(*args):
        code, out, _ = cli(capsys, "catalog", "ls", "--db", defect_catalog, "--json", *args)
        assert code == 0
        return sorted(t["path"].rsplit("/", 1)[1] for t in json.loads(out))

    assert listed() == ["clean.wav", "clicks.wav", "clipped.wav", "unscanned.wav"]
    assert listed("--defective") == ["clicks.wav", "clipped.wav"]
    assert listed("--defective", "--type", "click") == ["clicks.wav"]
    assert listed("--type", "clipping") == ["clipped.wav"]
    assert listed("--defective", "--type", "dropout") == []
    code, out, _ = cli(capsys, "catalog", "ls", "--db", defect_catalog, "--defective")
    assert code == 0 and "2 tracks" in out and "click 2" in out and "clean.wav" not in out


def test_catalog_ls_refuses_an_unknown_type(defect_catalog, capsys):
    code, _, err = cli(capsys, "catalog", "ls", "--db", defect_catalog, "--defective",
                       "--type", "crackle")
    assert code == 2 and "unknown defect type 'crackle'" in err
