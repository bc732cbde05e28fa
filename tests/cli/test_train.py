"""`cantata train speech-detector` then `cantata train singing-detector --init …`, 2 steps each."""

from __future__ import annotations

import json

import soundfile as sf

from cantata.cli import main
from cantata.data.synth.factory import FactoryConfig, synthesize
from cantata.testing import noise, sine
from cantata.train.recipes import VAL_SINGERS

FAST = ["--steps", "2", "--batch-size", "2", "--eval-every", "2", "--workers", "0", "--json"]


def test_train_speech_then_singing_with_transfer(tmp_path, capsys):
    speech = tmp_path / "speech"
    synthesize("speech-mix", hours=3 * 5 / 3600, out_dir=speech, seed=4,
               config=FactoryConfig(sample_rate=16000, example_s=5.0))
    assert main(["train", "speech-detector", "--data", str(speech), "--out",
                 str(tmp_path / "run-speech"), *FAST]) == 0
    speech_ckpt = json.loads(capsys.readouterr().out)["best"]

    mir1k = tmp_path / "mir1k"
    for i, singer in enumerate(["bug", *VAL_SINGERS]):
        clip = mir1k / f"{singer}_2_0{i}"
        clip.mkdir(parents=True)
        sf.write(str(clip / "vocals.wav"), noise(duration_s=2.5, seed=i).samples[0], 16000)
        sf.write(str(clip / "accompaniment.wav"), sine(330, duration_s=2.5).samples[0], 16000)
    assert main(["train", "singing-detector", "--init", speech_ckpt, "--layers", "2",
                 "--mode", "finetune", "--mir1k", str(mir1k), "--out",
                 str(tmp_path / "run-singing"), *FAST]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 2 and summary["best"].endswith("best.pt")

    assert main(["detect", str(clip / "vocals.wav"), "--model", summary["best"],
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["file"].endswith("vocals.wav")


def test_bad_layers_value(tmp_path, capsys):
    assert main(["train", "singing-detector", "--layers", "two", "--mir1k", str(tmp_path),
                 "--out", str(tmp_path / "run")]) == 2
    assert "--layers takes a number" in capsys.readouterr().err
