"""`cantata train separator` end to end: 3 steps on a tiny MIR-1K folder, then separate."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from cantata.cli import main
from cantata.models.registry import load_checkpoint
from cantata.models.separator import debug_separator
from cantata.separate.spectral import SpectralSeparator
from cantata.testing import noise, sine
from cantata.train.recipes import VAL_SINGERS

#: the tiny architecture of debug_separator (P8)
DEBUG_ARCH = ["--set", "model.architecture={channels: [4, 8], strides: [[4, 1], [2, 2]], "
                       "level_convs: 0}"]


@pytest.mark.slow
def test_train_separator_then_separate(tmp_path, capsys):
    debug = debug_separator().config
    mir1k = tmp_path / "mir1k"
    for i, singer in enumerate(["bug", *VAL_SINGERS]):
        clip = mir1k / f"{singer}_2_0{i}"
        clip.mkdir(parents=True)
        sf.write(str(clip / "vocals.wav"), sine(300 + 40 * i, duration_s=3.5).samples[0], 16000)
        sf.write(str(clip / "accompaniment.wav"), noise(duration_s=3.5, seed=i).samples[0],
                 16000)
    voices = tmp_path / "voices"
    voices.mkdir()
    sf.write(str(voices / "alice_01.wav"), sine(600, duration_s=2.0).samples[0], 16000)
    out = tmp_path / "run"
    assert main(["train", "separator", "--mir1k", str(mir1k), "--vocals", str(voices),
                 "--pitch-tempo", "0.5", "--reverb", "0.5", "--mask", "psm", "--loss",
                 "l1+sisdr", "--channels", "2", "--out", str(out), "--steps", "4",
                 "--batch-size", "2", "--eval-every", "2", "--workers", "0",
                 "--keep-checkpoints", "--json", *DEBUG_ARCH]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 4 and summary["best"].endswith("best.pt")
    assert np.isfinite(summary["best_metric"])

    _, checkpoint = load_checkpoint(summary["best"])
    assert checkpoint.config["channels"] == list(debug.channels)
    assert checkpoint.meta["command"].startswith("cantata ")
    assert checkpoint.meta["mask"] == "psm" and checkpoint.meta["channels"] == 2
    assert checkpoint.meta["data"]["train_vocals"] == 1
    assert checkpoint.meta["data"]["p_pitch_tempo"] == 0.5
    assert checkpoint.meta["data"]["p_reverb"] == 0.5
    separator = SpectralSeparator.from_checkpoint(summary["best"])
    x = np.random.default_rng(0).standard_normal((2, 44100)).astype(np.float32) * 0.1
    stems = separator.separate_window(x, 44100)
    assert stems.shape == (2, 2, 44100)
    np.testing.assert_allclose(stems.sum(axis=0), x, atol=1e-4)

    kept = sorted(str(p) for p in (out / "steps").glob("*.pt"))
    assert main(["train", "average", *kept, "--out", str(tmp_path / "avg.pt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["averaged"] == kept and len(kept) == 2
    averaged = SpectralSeparator.from_checkpoint(tmp_path / "avg.pt")
    assert averaged.separate_window(x, 44100).shape == (2, 2, 44100)
    assert main(["train", "average", *kept, "--out", str(tmp_path / "avg.pt")]) == 2
    assert "avg.pt: file exists (use --force to replace it)" in capsys.readouterr().err

    grown = tmp_path / "grown"
    assert main(["train", "separator", "--mir1k", str(mir1k), "--mask", "psm", "--init",
                 summary["best"], "--refine-channels", "4", "--context-units", "3",
                 "--bottleneck-blocks", "1", "--decoder-blocks", "1", "--phase-steps", "1",
                 "--test-singers", "abjones", "--out", str(grown), "--steps", "2",
                 "--batch-size", "2", "--eval-every", "2", "--workers", "0", "--json"]) == 0
    model, checkpoint = load_checkpoint(json.loads(capsys.readouterr().out)["best"])
    assert checkpoint.config["refine_channels"] == 4 and checkpoint.config["context_units"] == 3
    assert checkpoint.meta["init"] == summary["best"]
    assert checkpoint.meta["data"]["test_singers"] == ["abjones"]
    assert model.refine.layers[0].out_channels == 4 and model.context.gru.hidden_size == 3
    assert checkpoint.config["bottleneck_blocks"] == 1 and len(model.bottleneck) == 1
    assert checkpoint.config["decoder_blocks"] == 1 and checkpoint.config["phase_steps"] == 1
    assert SpectralSeparator.from_checkpoint(grown / "best.pt").phase_steps == 1
    assert all(len(blocks) == 1 for blocks in model.up_blocks)
    wider = tmp_path / "wider"  # a wider refinement grows from the grown one
    assert main(["train", "separator", "--mir1k", str(mir1k), "--mask", "psm", "--init",
                 str(grown / "best.pt"), "--refine-channels", "6",
                 "--out", str(wider), "--steps", "1", "--batch-size", "2", "--eval-every",
                 "1", "--workers", "0", "--json"]) == 0
    model, _ = load_checkpoint(json.loads(capsys.readouterr().out)["best"])
    assert model.refine.layers[3].weight.shape[:2] == (6, 6)
    assert main(["train", "separator", "--mir1k", str(mir1k), "--mask", "psm", "--init",
                 str(wider / "best.pt"), "--refine-channels", "2", "--out",
                 str(tmp_path / "narrower")]) == 2
    assert "do not fit" in capsys.readouterr().err
    assert main(["train", "separator", "--mir1k", str(mir1k), "--init", summary["best"],
                 "--out", str(tmp_path / "bad")]) == 2
    assert "differs from the one to train in mask" in capsys.readouterr().err
    assert main(["train", "separator", "--mir1k", str(mir1k), "--mask", "psm", "--init",
                 summary["best"], "--fold", "2x1", "--out", str(tmp_path / "bad")]) == 2
    assert "differs from the one to train in strides" in capsys.readouterr().err

    finer = tmp_path / "finer"
    assert main(["train", "separator", "--mir1k", str(mir1k), "--fold", "2x1", "--out",
                 str(finer), "--steps", "1", "--batch-size", "2", "--eval-every", "1",
                 "--workers", "0", "--json", *DEBUG_ARCH]) == 0
    model, checkpoint = load_checkpoint(json.loads(capsys.readouterr().out)["best"])
    assert checkpoint.config["strides"][0] == [2, 1]
    assert checkpoint.config["strides"][1:] == [list(s) for s in debug.strides[1:]]
    x = np.random.default_rng(1).standard_normal((1, 16000)).astype(np.float32) * 0.1
    assert SpectralSeparator(model).separate_window(x, 16000).shape == (2, 1, 16000)


def test_bad_fold_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "separator", "--mir1k", str(tmp_path), "--fold", "4",
              "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert "BINSxFRAMES" in capsys.readouterr().err


def test_bad_loss_exits_2(tmp_path, capsys):
    assert main(["train", "separator", "--mir1k", str(tmp_path), "--loss", "l2",
                 "--out", str(tmp_path / "run")]) == 2
    assert "loss must be" in capsys.readouterr().err


def test_bad_pitch_tempo_probability_exits_2(tmp_path, capsys):
    assert main(["train", "separator", "--mir1k", str(tmp_path), "--pitch-tempo", "1.5",
                 "--out", str(tmp_path / "run")]) == 2
    assert "pitch/tempo probability must be in [0, 1], got 1.5" in capsys.readouterr().err
    assert main(["train", "separator", "--mir1k", str(tmp_path), "--reverb", "-0.1",
                 "--out", str(tmp_path / "run")]) == 2
    assert "reverb probability must be in [0, 1], got -0.1" in capsys.readouterr().err
