"""`cantata train restore`: two steps on your own clean/ and noisy/ folders."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from cantata.errors import ConfigError
from cantata.models.registry import load_checkpoint
from cantata.restore import AudioRestorer
from cantata.train.recipes import load_recipe
from cantata.train.recipes.restore import load_pairs

RATE = 16000


def pairs(root, n=4):
    rng = np.random.default_rng(0)
    for i in range(n):
        clean = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * np.arange(RATE) / RATE)
        for sub, x in (("clean", clean), ("noisy", clean + 0.05 * rng.standard_normal(RATE))):
            (root / sub).mkdir(parents=True, exist_ok=True)
            sf.write(str(root / sub / f"take{i}.wav"), x, RATE)
    return root


def test_two_steps_on_folders_give_a_loadable_restorer(tmp_path):
    folder = pairs(tmp_path / "pairs")
    recipe = load_recipe("configs/restore/debug.yaml",
                         ["data.synth=null", f"data.pairs=[{folder}]", "data.validation=0.25"],
                         capability="restore")
    result = recipe.fit(tmp_path / "run")
    model, checkpoint = load_checkpoint(result.best_path)
    assert checkpoint.name == "restorer" and checkpoint.meta["mask"] == "irm"
    assert checkpoint.meta["strength"] in (0.25, 0.5, 0.75, 1.0, 1.5)  # calibrated
    assert AudioRestorer.from_pretrained(str(result.best_path)).strength == \
        checkpoint.meta["strength"]
    assert {"val_sisdri", "val_clean_sisdr", "val_score"} <= set(result.history[-1]["metrics"])
    out = AudioRestorer.from_pretrained(str(result.best_path)).restore(
        np.zeros(RATE, np.float32), sr=RATE)
    assert out.samples.shape == (1, RATE)
    again = load_recipe("configs/restore/debug.yaml",
                        ["data.synth=null", f"data.pairs=[{folder}]", "data.validation=0.25",
                         f"init={result.best_path}"]).fit(tmp_path / "run2")
    _, second = load_checkpoint(again.best_path)
    assert len(second.meta["lineage"]) == 1 and second.meta["init"] == str(result.best_path)
    retargeted = load_recipe("configs/restore/debug.yaml",
                             ["data.synth=null", f"data.pairs=[{folder}]", "data.validation=0.25",
                              "model.mask=psm", f"init={result.best_path}"]).fit(tmp_path / "psm")
    assert load_checkpoint(retargeted.best_path)[1].meta["mask"] == "psm"  # a new target
    with pytest.raises(ConfigError, match="another architecture"):
        load_recipe("configs/restore/debug.yaml",
                    ["data.synth=null", f"data.pairs=[{folder}]", "model.hidden=4",
                     f"init={result.best_path}"]).fit(tmp_path / "run3")


def test_a_noisy_file_without_its_clean_one_is_an_error(tmp_path):
    folder = pairs(tmp_path / "pairs", n=1)
    sf.write(str(folder / "noisy" / "extra.wav"), np.zeros(100), RATE)
    with pytest.raises(ConfigError, match="extra.wav"):
        load_pairs(folder)
    with pytest.raises(ConfigError, match="clean/"):
        load_pairs(tmp_path)


def test_suppression_weight_counts_music_taken_away_more():
    import torch

    from cantata.models.restorer import MaskCRNN, RestorerConfig
    from cantata.train.tasks.restore import RestoreTask

    class Fixed(MaskCRNN):
        """A model whose mask is a constant, to set the loss's two sides apart."""

        def __init__(self, value: float) -> None:
            super().__init__(RestorerConfig(sample_rate=RATE, n_fft=256, hop_length=64,
                                            hidden=8, gru_layers=1))
            self.value = value

        def forward(self, mag, state=None):
            return torch.full_like(mag, self.value), state

    rng = np.random.default_rng(1)
    clean = torch.from_numpy((0.3 * rng.standard_normal((2, RATE // 2))).astype(np.float32))
    batch = {"clean": clean, "noisy": clean.clone()}  # clean input: the ideal mask is 1
    plain, asymmetric = RestoreTask(0.5), RestoreTask(0.5, suppression_weight=4.0)
    under = Fixed(0.5)
    assert float(asymmetric.loss(under, batch)) == pytest.approx(
        4 * float(plain.loss(under, batch)), rel=1e-4)
    with pytest.raises(ConfigError, match="suppression_weight"):
        load_recipe("configs/restore/debug.yaml", overrides=["suppression_weight=0"])
