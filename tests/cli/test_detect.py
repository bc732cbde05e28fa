"""`cantata detect` end to end on the debug model."""

from __future__ import annotations

import json

import soundfile as sf

from cantata.cli import main
from cantata.testing import noise


def write(tmp_path, name="song.wav", seconds=2.0):
    path = tmp_path / name
    sf.write(str(path), noise(duration_s=seconds, sample_rate=16000).samples.T, 16000)
    return path


def test_json_to_stdout(tmp_path, capsys):
    path = write(tmp_path)
    assert main(["detect", str(path), "--model", "debug", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["file"] == str(path)
    for region in result["regions"]:
        assert set(region) == {"start_s", "end_s", "start", "end", "label", "confidence"}
        assert 0 <= region["start"] < region["end"] <= 2.0 and region["label"] == "vocal"


def test_json_names_times_as_the_catalog_and_carries_model_and_duration(tmp_path, capsys):
    path = write(tmp_path, seconds=1.5)
    assert main(["detect", str(path), "--model", "debug-multilabel", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["model"] == "debug-multilabel" and result["duration_s"] == 1.5
    assert result["regions"]
    for region in result["regions"]:   # start/end: deprecated aliases of start_s/end_s
        assert (region["start"], region["end"]) == (region["start_s"], region["end_s"])


def test_result_files_in_every_format_and_no_silent_overwrite(tmp_path, capsys):
    path = write(tmp_path)
    out = tmp_path / "out"
    for fmt, suffix in [("json", "json"), ("csv", "csv"), ("audacity", "txt")]:
        assert main(["detect", str(path), "--model", "debug-multilabel", "-o", str(out),
                     "--format", fmt]) == 0
        assert (out / f"song.{suffix}").exists()
    assert (out / "song.csv").read_text().startswith("start,end,label,confidence\n")
    assert json.loads((out / "song.json").read_text())["file"] == str(path)
    before = (out / "song.json").read_text()
    (out / "song.json").write_text("mine")
    assert main(["detect", str(path), "--model", "debug", "-o", str(out)]) == 2
    assert "file exists" in capsys.readouterr().err
    assert (out / "song.json").read_text() == "mine"
    assert main(["detect", str(path), "--model", "debug", "-o", str(out), "--overwrite"]) == 0
    assert (out / "song.json").read_text() != "mine" and before


def test_plot(tmp_path):
    path = write(tmp_path)
    assert main(["detect", str(path), "--model", "debug", "-o", str(tmp_path), "--plot"]) == 0
    assert (tmp_path / "song.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_file_among_good_ones(tmp_path, capsys):
    good, bad = write(tmp_path), tmp_path / "bad.mp3"
    bad.write_text("nope")
    assert main(["detect", str(good), str(bad), "--model", "debug", "--json"]) == 2
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 1 and "bad.mp3" in captured.err


def test_export_onnx_with_parity(tmp_path, capsys):
    out = tmp_path / "detector.onnx"
    assert main(["export", "onnx", "debug", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["max_abs_diff"] < 1e-4
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["labels"] == ["vocal"] and sidecar["features"]["n_mels"] == 32
    assert main(["export", "onnx", "debug", str(out)]) == 2  # exists: not replaced silently


def test_live_from_a_file(tmp_path, capsys):
    path = write(tmp_path, seconds=1.5)
    assert main(["detect", "--live", str(path), "--fast", "--model", "debug", "--json"]) == 0
    for line in capsys.readouterr().out.splitlines():
        event = json.loads(line)
        assert event["event"] in ("singing started", "singing stopped") and event["time_s"] >= 0


def test_live_from_stdin_as_a_user_pipes_it(tmp_path):
    import subprocess
    import sys

    import numpy as np

    pcm = (noise(duration_s=1.0, sample_rate=16000).samples[0] * 32767).astype("<i2").tobytes()
    result = subprocess.run([sys.executable, "-m", "cantata.cli", "detect", "--live", "-",
                             "--model", "debug", "--json"], input=pcm, capture_output=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert np.all([json.loads(x)["time_s"] <= 1.0 for x in result.stdout.splitlines()])


def test_karaoke_comparison(tmp_path, capsys):
    original, take = write(tmp_path, "original.wav"), write(tmp_path, "take.wav")
    assert main(["detect", "--karaoke", str(original), str(take), "--model", "debug",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["original"] == str(original) and isinstance(report["missed"], list)


def test_live_needs_one_source(tmp_path, capsys):
    a, b = write(tmp_path, "a.wav"), write(tmp_path, "b.wav")
    assert main(["detect", "--live", str(a), str(b), "--model", "debug"]) == 2
    assert "one source" in capsys.readouterr().err
