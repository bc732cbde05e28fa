"""`cantata data synth noisy`: noise types, pairs and labels, resumable."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from cantata.data.synth import defect_clips
from cantata.data.synth.noisy import NoisySetConfig, degrade, noise_files, synthesize_noisy
from cantata.data.synth.noisy_noise import IMPULSE_TYPES, NOISE_TYPES, NoiseBank
from cantata.errors import ConfigError
from cantata.testing import sine

RATE = 16000


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Two tiny 'tracks', a noise recording and a speech recording."""
    monkeypatch.setattr(defect_clips, "_benchmark_files", lambda: set())
    for name, freq in (("music/a.wav", 220.0), ("music/b.wav", 330.0)):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        sf.write(str(tmp_path / name), sine(freq, duration_s=3.0, sample_rate=RATE).samples.T,
                 RATE)
    rng = np.random.default_rng(0)
    for name in ("noise/fan.wav", "noise/running_tap.wav", "speech/talk.wav"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        sf.write(str(tmp_path / name), 0.1 * rng.standard_normal(RATE), RATE)
    return tmp_path


def test_every_noise_type_is_made_at_unit_level(folders):
    bank = NoiseBank([str(folders / "noise/fan.wav")], [str(folders / "speech/talk.wav")], RATE)
    rng = np.random.default_rng(1)
    for kind in NOISE_TYPES:
        x = bank.make(kind, rng, RATE)
        assert x.shape == (RATE,) and np.sqrt(np.mean(x**2)) == pytest.approx(1, rel=1e-3)
    for kind in IMPULSE_TYPES:
        assert np.abs(bank.make(kind, rng, RATE)).max() == pytest.approx(1)


def test_held_out_noise_is_left_out(folders):
    assert [p.split("/")[-1] for p in noise_files([str(folders / "noise")])] == ["fan.wav"]


def test_degrade_labels_the_snr():
    bank = NoiseBank([], [], RATE)
    clean = sine(440, duration_s=1.0, sample_rate=RATE).samples[0]
    config = NoisySetConfig(p_clean=0.0, p_impulses=0.0, p_phone=0.0, types=("white",),
                            snr_db=(10.0, 10.0))
    target, noisy, label = degrade(np.random.default_rng(0), clean, bank, config)
    noise = noisy - target
    snr = 10 * np.log10(np.mean(target**2) / np.mean(noise**2))
    assert label == {"snr_db": 10.0, "noise": ["white"]} and snr == pytest.approx(10, abs=0.01)
    with pytest.raises(ConfigError, match="p_clean"):
        NoisySetConfig(p_clean=2)


def test_pairs_are_written_and_a_rerun_resumes(folders):
    config = NoisySetConfig(music=(str(folders / "music"),), speech=(str(folders / "speech"),),
                            noise=(str(folders / "noise"),), example_s=1.0, sample_rate=RATE)
    out = folders / "pairs"
    report = synthesize_noisy(hours=3.5 / 3600, out_dir=out, config=config, seed=2)
    assert (report.n_examples, report.n_made) == (4, 4)
    lines = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    for ex in lines:
        assert set(ex["stems"]) == {"clean", "noisy"} and "snr_db" in ex["meta"]
        clean, rate = sf.read(str(out / ex["stems"]["clean"]))
        noisy, _ = sf.read(str(out / ex["stems"]["noisy"]))
        assert rate == RATE and clean.shape == noisy.shape == (RATE,)
        assert (ex["meta"]["snr_db"] is None) == np.array_equal(clean, noisy)
    again = synthesize_noisy(hours=3.5 / 3600, out_dir=out, config=config, seed=2)
    assert again.n_made == 0


def test_the_command_makes_pairs(folders, capsys):
    from cantata.cli import main

    out = folders / "cli"
    code = main(["data", "synth", "noisy", "--hours", str(1.5 / 3600), "--out", str(out),
                 "--music", str(folders / "music"), "--noise", str(folders / "noise"),
                 "--example-s", "1", "--sample-rate", str(RATE), "--jobs", "1", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["examples"] == 2
    assert sorted(p.name for p in out.iterdir()) == ["manifest.jsonl", "noisy-000000",
                                                      "noisy-000001"]
