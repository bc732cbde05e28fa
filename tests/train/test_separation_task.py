"""The separation task (losses, evaluation, validation mixes) and the separator recipe."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
import torch

from cantata.data.sources import load_mir1k
from cantata.errors import ConfigError
from cantata.models.registry import load_checkpoint
from cantata.models.separator import MaskUNet, SeparatorConfig, debug_separator
from cantata.separate.losses import sdr, si_sdr, windowed_sdr
from cantata.separate.metrics import bss_eval
from cantata.testing import noise, sine
from cantata.train.config import TrainConfig
from cantata.train.recipes import TEST_SINGERS, VAL_SINGERS, fit_input_stats
from cantata.train.recipes.separate import (
    SeparatorData,
    SeparatorMix,
    SeparatorModel,
    SeparatorRecipe,
    extend_separator,
    mixture_input,
)
from cantata.train.tasks.separation import FixedMixes, SeparationTask, parse_loss

DEBUG = debug_separator().config
TINY = TrainConfig(max_steps=2, batch_size=2, eval_every=2, num_workers=0)


def _recipe(mir1k=None, *, init=None, loss="l1", channels=1, **data):
    """The separator recipe on ``mir1k``, the debug architecture unless ``init``."""
    model = SeparatorModel(architecture=None if init else DEBUG, init=init and str(init))
    return SeparatorRecipe(data=SeparatorData(mir1k=mir1k and str(mir1k), **data), model=model,
                           mix=SeparatorMix(channels=channels), loss=loss, train=TINY)


def _batch(n: int = 8000, channels: int = 2, silent_vocals: bool = False) -> dict:
    g = torch.Generator().manual_seed(0)
    t = torch.arange(n) / 16000
    vocals = 0.3 * torch.sin(2 * math.pi * 440 * t).expand(2, channels, n).clone()
    if silent_vocals:
        vocals[1] = 0
    backing = 0.1 * torch.randn(2, channels, n, generator=g)
    return {"mixture": vocals + backing, "vocals": vocals, "accompaniment": backing}


def test_si_sdr_and_sdr():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(3, 16000, generator=g)
    n = torch.randn(3, 16000, generator=g)
    n = n - (n * s).sum(-1, keepdim=True) / (s * s).sum(-1, keepdim=True) * s  # orthogonal
    e = s + 0.1 * n
    expected = 10 * torch.log10((s * s).sum(-1) / (0.01 * (n * n).sum(-1)))
    torch.testing.assert_close(si_sdr(e, s), expected, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(si_sdr(3 * e, s), expected, rtol=1e-4, atol=1e-3)  # scale-free
    torch.testing.assert_close(sdr(e, s), expected, rtol=1e-4, atol=1e-3)
    assert (sdr(3 * e, s) < 0).all()  # plain SDR punishes the wrong gain
    assert si_sdr(torch.zeros(16000), torch.zeros(16000)).isfinite()


def test_windowed_sdr_is_what_bss_eval_scores_per_window():
    g = torch.Generator().manual_seed(2)
    s = torch.randn(1, 2, 4500, generator=g)
    e = s + torch.linspace(0.05, 1.0, 4500) * torch.randn(1, 2, 4500, generator=g)
    ours = windowed_sdr(e, s, 1000, max_db=200.0)[0]  # 4 windows, the partial one dropped
    refs = np.stack([s[0].T.numpy(), (torch.randn(2, 4500, generator=g)).T.numpy()])
    ests = np.stack([e[0].T.numpy(), refs[1]])
    theirs = bss_eval(refs, ests, 1000).sdr[0]
    np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-3)
    assert ours[0] > ours[-1]  # the noise grows along the signal


def test_windowed_sdr_is_capped():
    s = torch.randn(2, 1, 3000)
    assert torch.allclose(windowed_sdr(s, s, 1000), torch.tensor(30.0), atol=1e-3)
    assert windowed_sdr(s.clone(), s, 1000, max_db=10.0).max() < 10.001
    with pytest.raises(ValueError, match="no 4000-sample window"):
        windowed_sdr(s, s, 4000)


def test_parse_loss():
    assert parse_loss("l1+sisdr") == ("l1", "sisdr")
    with pytest.raises(ConfigError, match="loss must be"):
        parse_loss("l2")
    with pytest.raises(ConfigError, match="loss must be"):
        parse_loss("l1+")


@pytest.mark.parametrize(("mask", "loss"), [
    ("irm", "l1"), ("irm", "mse"), ("irm", "mrstft"), ("irm", "sisdr"), ("psm", "mse"),
    ("psm", "l1+sisdr"), ("cirm", "mse"), ("cirm", "l1+mrstft"), ("irm", "winsdr"),
    ("irm", "l1+sisdr+winsdr")])
def test_every_loss_is_finite_and_has_gradients(mask, loss):
    model = MaskUNet(SeparatorConfig(mask=mask, channels=(4, 8), strides=((4, 2), (2, 2)),
                                     level_convs=0))
    batch = _batch(4000, channels=1, silent_vocals=True)
    value, metrics = SeparationTask(loss).training_step(model, batch)
    assert value.ndim == 0 and torch.isfinite(value)
    assert set(metrics) == {f"loss/{t}" for t in loss.split("+")}
    value.backward()
    assert model.head.weight.grad is not None and model.head.weight.grad.abs().sum() > 0


def test_phase_steps_train_through_the_consistent_phase():
    config = SeparatorConfig(channels=(4, 8), strides=((4, 2), (2, 2)), level_convs=0)
    plain, stepped = MaskUNet(config), MaskUNet(replace(config, phase_steps=1))
    stepped.load_state_dict(plain.state_dict())
    batch, task = _batch(4000, channels=1), SeparationTask("l1+sisdr")
    out = task.forward(stepped, batch, waveforms=True)
    torch.testing.assert_close(out["estimates"].sum(1), batch["mixture"], atol=1e-5, rtol=0)
    assert float(out["sisdr"]) != float(task.forward(plain, batch)["sisdr"])
    out["loss"].backward()
    assert torch.isfinite(stepped.head.weight.grad).all()
    assert stepped.head.weight.grad.abs().sum() > 0


def test_training_lowers_the_loss():
    torch.manual_seed(0)
    model = MaskUNet(DEBUG)
    task, batch = SeparationTask("l1"), _batch(4000, channels=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    losses = []
    for _ in range(12):
        optimizer.zero_grad()
        loss, _ = task.training_step(model, batch)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_evaluate_scores_the_stems():
    model = debug_separator()
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.constant_(model.head.bias, 50.0)  # vocals = the whole mixture
    batch = _batch(16000)
    metrics = SeparationTask("l1").evaluate(model, [batch])
    assert SeparationTask.metric in metrics and SeparationTask.higher_is_better
    mix, vocals = batch["mixture"].flatten(1), batch["vocals"].flatten(1)
    assert metrics["val_si_sdr_vocals"] == pytest.approx(
        float(si_sdr(mix, vocals).median()), abs=0.05)
    assert metrics["val_sdr_vocals"] == pytest.approx(float(sdr(mix, vocals).median()), abs=0.05)
    assert metrics["val_sdr_accompaniment"] == pytest.approx(0.0, abs=0.01)  # estimate is silence
    assert set(metrics) == {"val_loss", "val_si_sdr_vocals", "val_sdr_vocals",
                            "val_si_sdr_accompaniment", "val_sdr_accompaniment"}


def _write_mir1k(root, singers, *, seconds=2.5):
    for i, singer in enumerate(singers):
        clip = root / f"{singer}_1_0{i}"
        clip.mkdir(parents=True)
        voice = sine(300 + 50 * i, duration_s=seconds, amplitude=0.3).samples[0]
        sf.write(str(clip / "vocals.wav"), voice, 16000)
        backing = noise(duration_s=seconds, amplitude=0.05, seed=i).samples[0]
        sf.write(str(clip / "accompaniment.wav"), backing, 16000)
    return root


@pytest.fixture(scope="module")
def mir1k(tmp_path_factory):
    return _write_mir1k(tmp_path_factory.mktemp("mir1k"), ["amy", *VAL_SINGERS, TEST_SINGERS[0]])


def test_fixed_mixes_are_0db_windows(mir1k):
    clips = load_mir1k(mir1k)[:1]
    mixes = FixedMixes(clips, sample_rate=16000, n_channels=2, window_s=1.0)
    assert len(mixes) == 2  # 2.5 s: two 1 s windows; the 0.5 s rest is dropped
    item = mixes[0]
    assert item["mixture"].shape == (2, 16000)
    torch.testing.assert_close(item["mixture"], item["vocals"] + item["accompaniment"])
    energy = [float(item[k].pow(2).sum()) for k in ("vocals", "accompaniment")]
    assert 10 * np.log10(energy[0] / energy[1]) == pytest.approx(0.0, abs=0.5)
    assert len(FixedMixes(clips, sample_rate=16000, window_s=2.0)) == 1


def test_input_stats_come_from_the_data():
    model = debug_separator()
    fit_input_stats(model, [{"mixture": _batch()["mixture"][0]}], mixture_input(model))
    assert not torch.all(model.input_std == 1) and not torch.all(model.input_mean == 0)


def test_recipe_trains_and_describes_the_checkpoint(mir1k, tmp_path):
    result = _recipe(mir1k, loss="l1+sisdr", channels=2).fit(tmp_path,
                                                           command="cantata train ...")
    model, checkpoint = load_checkpoint(result.best_path)
    assert isinstance(model, MaskUNet) and result.steps_done == 2
    meta = checkpoint.meta
    assert meta["stems"] == ["vocals", "accompaniment"] and meta["sample_rate"] == 16000
    assert meta["mask"] == "irm" and meta["loss"] == "l1+sisdr" and meta["channels"] == 2
    assert meta["data"]["train_singers"] == ["amy"] and meta["command"]
    assert TEST_SINGERS[0] not in meta["data"]["train_singers"]
    assert meta["data"]["val_examples"] == len(VAL_SINGERS)
    assert "val_si_sdr_vocals" in meta["training"]["metrics"]
    assert not torch.all(model.input_std == 1)


def test_a_final_fit_trains_on_a_validation_singer_and_validates_on_the_rest(mir1k, tmp_path):
    singers = ["amy", VAL_SINGERS[0]]
    result = _recipe(mir1k, train_singers=tuple(singers)).fit(tmp_path)
    data = load_checkpoint(result.best_path)[1].meta["data"]
    assert data["train_singers"] == singers and data["train_clips"] == 2
    assert data["val_singers"] == list(VAL_SINGERS[1:]) and data["val_examples"] == 1


def test_fewer_test_singers_free_one_for_training_and_are_recorded(mir1k, tmp_path):
    singers = ["amy", TEST_SINGERS[0]]
    result = _recipe(mir1k, train_singers=tuple(singers),
                     test_singers=TEST_SINGERS[1:]).fit(tmp_path)
    data = load_checkpoint(result.best_path)[1].meta["data"]
    assert data["train_singers"] == singers and data["train_clips"] == 2
    assert data["test_singers"] == list(TEST_SINGERS[1:])


def test_a_cappella_folders_add_voices_mixed_over_the_other_accompaniment(mir1k, tmp_path):
    voices = tmp_path / "voices"
    for name in ("FA01_01", "FA01_02", "MC13_01"):
        voices.mkdir(exist_ok=True)
        sf.write(str(voices / f"{name}.flac"), sine(500, duration_s=1.5).samples[0], 16000)
    result = _recipe(mir1k, vocals=(str(voices),)).fit(tmp_path / "run")
    data = load_checkpoint(result.best_path)[1].meta["data"]
    assert data["vocals"] == [str(voices)] and data["train_vocals"] == 3
    assert data["train_vocal_groups"] == 2 and data["train_clips"] == 1
    assert data["val_examples"] == len(VAL_SINGERS)  # a cappella never validates


def test_recipe_refuses_held_out_singers_and_bad_options(mir1k, tmp_path):
    with pytest.raises(ConfigError, match="held out"):
        _recipe(mir1k, train_singers=(TEST_SINGERS[0],)).fit(tmp_path)
    with pytest.raises(ConfigError, match="loss must be"):
        _recipe(mir1k, loss="l2")
    with pytest.raises(ConfigError, match="no training data"):
        _recipe().fit(tmp_path)


def test_extend_separator_copies_the_coarse_net_and_refuses_what_does_not_fit():
    source = MaskUNet(DEBUG)
    source.set_input_stats(torch.full((513,), -2.0), torch.full((513,), 3.0))
    grown = MaskUNet(replace(DEBUG, refine_channels=4, context_units=2, bottleneck_blocks=1,
                             decoder_blocks=1))
    extend_separator(grown, source)
    assert torch.equal(grown.input_mean, source.input_mean)
    assert torch.equal(grown.first[0].weight, source.first[0].weight)
    with pytest.raises(ConfigError, match="unexpected"):
        extend_separator(MaskUNet(DEBUG), grown)
    with pytest.raises(ConfigError, match="channels"):
        extend_separator(MaskUNet(replace(DEBUG, channels=(4, 4))), source)


def test_extend_separator_widens_the_refinement_without_changing_the_output():
    source = MaskUNet(replace(DEBUG, refine_channels=2)).eval()
    for param in source.refine.parameters():  # a trained refinement, not the zero start
        torch.nn.init.normal_(param, std=0.3)
    wide = MaskUNet(replace(DEBUG, refine_channels=5)).eval()
    extend_separator(wide, source)
    mag = torch.rand(2, 1, 513, 40) * 2
    with torch.no_grad():
        torch.testing.assert_close(wide.mask(mag), source.mask(mag), atol=1e-6, rtol=0)
    assert wide.refine.layers[3].weight[2:].abs().sum() > 0  # new channels are live
    with pytest.raises(ConfigError, match="do not fit"):
        extend_separator(MaskUNet(replace(DEBUG, refine_channels=1)), source)


def test_a_run_from_init_records_the_runs_it_grew_from(mir1k, tmp_path):
    first = _recipe(mir1k).fit(tmp_path / "a", command="cantata train separator --out a")
    second = _recipe(mir1k, init=first.best_path).fit(
        tmp_path / "b", command="cantata train separator --out b")
    third = _recipe(mir1k, init=second.best_path).fit(tmp_path / "c")
    first.best_path.unlink()  # the lineage outlives the checkpoints it names
    lineage = load_checkpoint(third.best_path)[1].meta["lineage"]
    assert [stage["command"] for stage in lineage] == ["cantata train separator --out a",
                                                       "cantata train separator --out b"]
    assert lineage[0]["weights"] == "best at step 2" and lineage[0]["steps"] == 2
    assert lineage[1]["recipe"]["model"]["init"] == str(first.best_path)  # each run's recipe
    assert lineage[0]["wall_s"] > 0
    assert len(load_checkpoint(second.best_path)[1].meta["lineage"]) == 1
