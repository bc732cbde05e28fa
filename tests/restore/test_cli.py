"""`cantata restore` end to end on the debug model, and `--live` on PCM."""

from __future__ import annotations

import argparse
import io
import json

import numpy as np
import soundfile as sf

from cantata.cli import main
from cantata.cli.restore import run_live
from cantata.testing import noise


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_restore_writes_one_file_per_input(tmp_path, capsys):
    for name, rate, channels in (("a.wav", 16000, 1), ("b.flac", 44100, 2)):
        sf.write(str(tmp_path / name),
                 noise(duration_s=0.3, sample_rate=rate, n_channels=channels).samples.T, rate)
    out = tmp_path / "out"
    code, text, _ = cli(capsys, "restore", tmp_path / "a.wav", tmp_path / "b.flac", "-o", out,
                        "--model", "debug", "--format", "flac", "--json")
    assert code == 0
    results = json.loads(text)
    assert [r["output"] for r in results] == [str(out / "a.flac"), str(out / "b.flac")]
    assert sf.info(str(out / "b.flac")).samplerate == 44100
    assert sf.info(str(out / "b.flac")).channels == 2
    code, _, err = cli(capsys, "restore", tmp_path / "a.wav", "-o", out, "--model", "debug",
                       "--format", "flac")
    assert code != 0 and "exists" in err
    code, _, err = cli(capsys, "restore", tmp_path / "a.wav", "-o", out, "--no-denoise",
                       "--no-declick")
    assert code != 0 and "nothing to do" in err


def test_live_turns_pcm_into_as_much_pcm():
    pcm = (noise(duration_s=0.5, sample_rate=16000, seed=4).samples[0] * 32767).astype("<i2")
    sink = io.BytesIO()
    args = argparse.Namespace(files=[], out=None, rate=16000, channels=1, threads=1,
                              model="debug", strength=1.0)
    assert run_live(args, io.BytesIO(pcm.tobytes()), sink) == 0
    out = np.frombuffer(sink.getvalue(), "<i2")
    assert 0.8 * len(pcm) <= len(out) <= len(pcm)
