"""`cantata data synth` and `cantata data inspect` end to end."""

from __future__ import annotations

import json

from cantata.cli import main


def test_synth_then_inspect(tmp_path, capsys):
    out = tmp_path / "songs"
    assert main(["data", "synth", "song", "--hours", str(5 / 3600), "--example-s", "5",
                 "--sample-rate", "16000", "--jobs", "1", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["examples"] == 1 and summary["made"] == 1
    assert (out / "manifest.jsonl").exists()

    assert main(["data", "inspect", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["examples"] == 1 and report["hours"] > 0
    assert set(report["label_fraction"]) <= {"vocal", "accompaniment", "silence"}
    assert (out / "inspect.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_inspect_without_manifest_is_a_clear_error(tmp_path, capsys):
    assert main(["data", "inspect", str(tmp_path)]) == 2
    assert "no such manifest" in capsys.readouterr().err
