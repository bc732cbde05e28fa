"""`cantata info` and the CLI's contract: one-line errors, exit 2, JSON on stdout."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from cantata import __version__
from cantata.cli import main
from cantata.testing import sine


@pytest.fixture
def tone_path(tmp_path):
    wav = sine(1000, duration_s=3.0, sample_rate=48000, n_channels=2, amplitude=10 ** (-23 / 20))
    path = tmp_path / "tone.flac"
    sf.write(str(path), wav.samples.T, wav.sample_rate, subtype="PCM_24")
    return path


def test_json_output_shape(tone_path, capsys):
    assert main(["info", "--json", str(tone_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"file": str(tone_path), "duration_s": 3.0, "sample_rate": 48000,
                     "channels": 2, "codec": "PCM_24", "container": "FLAC",
                     "peak_dbfs": pytest.approx(-23.0, abs=0.01),
                     "loudness_lufs": pytest.approx(-23.0, abs=0.1),
                     "truncated": False, "declared_duration_s": 3.0}]


def test_human_table(tone_path, capsys):
    assert main(["info", str(tone_path)]) == 0
    out = capsys.readouterr().out
    assert "tone.flac" in out and "48000" in out and "-23.0" in out and "0:03.000" in out


def test_bad_file_among_good_ones(tone_path, tmp_path, capsys):
    bad = tmp_path / "fake.mp3"
    bad.write_text("not audio")
    assert main(["info", "--json", str(tone_path), str(bad)]) == 2
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["sample_rate"] == 48000
    assert rows[1]["file"] == str(bad) and "not a decodable audio file" in rows[1]["error"]


def test_silence_reports_minus_infinity_as_null(tmp_path, capsys):
    path = tmp_path / "silence.wav"
    sf.write(str(path), [[0.0, 0.0]] * 16000, 16000)
    assert main(["info", "--json", str(path)]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["peak_dbfs"] is None and row["loudness_lufs"] is None


def test_real_process_prints_one_line_and_exits_2(tmp_path):
    """End to end, as a user runs it: no traceback, one line naming the file."""
    result = subprocess.run([sys.executable, "-m", "cantata.cli", "info",
                             str(tmp_path / "missing.wav")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"cantata: error: {tmp_path}/missing.wav: "
                                                  "no such file"]
    assert "Traceback" not in result.stderr


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"cantata {__version__}"


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["info"])
    assert exit_info.value.code == 2


def test_sparkline_follows_loudness():
    from cantata.cli.info import sparkline

    rising = np.repeat(np.linspace(-34, -10, 8), 10)  # 24 LU in 8 even steps
    assert sparkline(rising, width=8) == "▁▂▃▄▅▆▇█"
    assert sparkline(np.full(20, -80.0), width=4) == "▁▁▁▁"  # silence: flat and low
    assert sparkline(np.zeros(0)) == ""
