"""`cantata info` and `cantata scan` report a file cut short (issue 35.17)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import soundfile as sf

from cantata.cli import main
from cantata.testing import noise, write_compressed


def cut(path, keep=0.5):
    """Keep the first ``keep`` fraction of the bytes of ``path``."""
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    return path


@pytest.fixture
def cut_wav(tmp_path):
    wav = noise(duration_s=2.0, sample_rate=16000, n_channels=2, amplitude=0.3, seed=1)
    path = tmp_path / "music" / "cut.wav"
    path.parent.mkdir()
    sf.write(str(path), wav.samples.T, wav.sample_rate, subtype="PCM_16")
    return cut(path)


def warned(caplog, path):
    """Whether a warning naming ``path`` says it is truncated (the CLI's log handler puts
    it on stderr as ``cantata: WARNING: PATH: truncated: ...``)."""
    return any(r.levelname == "WARNING" and r.getMessage().startswith(f"{path}: truncated")
               for r in caplog.records)


def test_info_warns_and_flags_a_cut_wav_and_mp3(cut_wav, tmp_path, capsys, caplog):
    mp3 = cut(write_compressed(tmp_path / "cut.mp3", noise(duration_s=4.0, n_channels=2)))
    assert main(["info", "--json", str(cut_wav), str(mp3)]) == 0
    captured = capsys.readouterr()
    wav_row, mp3_row = json.loads(captured.out)
    assert wav_row["truncated"] is True and wav_row["declared_duration_s"] == 2.0
    assert wav_row["duration_s"] == pytest.approx(1.0, abs=0.01)
    assert wav_row["sample_rate"] == 16000 and wav_row["peak_dbfs"] is not None  # kept keys
    assert mp3_row["truncated"] is True
    assert mp3_row["declared_duration_s"] == pytest.approx(4.0, abs=0.1)
    assert warned(caplog, cut_wav) and warned(caplog, mp3)


def test_info_table_marks_a_cut_file(cut_wav, capsys, caplog):
    assert main(["info", str(cut_wav)]) == 0
    assert "truncated" in capsys.readouterr().out and warned(caplog, cut_wav)


def test_the_warning_reaches_stderr_of_a_real_process(cut_wav):
    result = subprocess.run([sys.executable, "-m", "cantata.cli", "info", str(cut_wav)],
                            capture_output=True, text=True, check=True)
    assert f"cantata: WARNING: {cut_wav}: truncated" in result.stderr
    assert "declares 2.000 s" in result.stderr and "holds 1.000 s" in result.stderr


def test_info_of_a_whole_file_says_not_truncated(tmp_path, capsys, caplog):
    path = tmp_path / "whole.wav"
    sf.write(str(path), noise(duration_s=1.0).samples.T, 16000)
    assert main(["info", "--json", str(path)]) == 0
    captured = capsys.readouterr()
    row = json.loads(captured.out)[0]
    assert row["truncated"] is False and row["declared_duration_s"] == 1.0
    assert not warned(caplog, path)


def test_scan_warns_and_the_catalog_flags_a_cut_file(cut_wav, tmp_path, capsys, caplog):
    db = tmp_path / "cat.db"
    whole = cut_wav.parent / "whole.wav"
    sf.write(str(whole), noise(duration_s=1.0).samples.T, 16000)
    assert main(["scan", str(cut_wav.parent), "--db", str(db), "--analyzers",
                 "detect=debug"]) == 0
    assert warned(caplog, cut_wav) and not warned(caplog, whole)
    capsys.readouterr()
    assert main(["catalog", "show", str(cut_wav), "--db", str(db), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "ok" and shown["truncated"] is True
    assert shown["duration_s"] == pytest.approx(1.0, abs=0.01)
    assert main(["catalog", "show", str(whole), "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["truncated"] is False
