"""Both detector recipes end to end, 2 steps each, on tiny generated data."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from cantata.data.synth.factory import FactoryConfig, synthesize
from cantata.errors import ConfigError
from cantata.models.registry import load_checkpoint, save_checkpoint
from cantata.models.separator import debug_separator
from cantata.testing import noise, sine
from cantata.train.config import TrainConfig
from cantata.train.recipes import VAL_SINGERS, SongData, build_recipe
from cantata.train.recipes.detect import (
    SingingDetectorRecipe,
    SpeechData,
    SpeechDetectorRecipe,
    Transfer,
)

TINY = TrainConfig(max_steps=2, batch_size=2, eval_every=2, num_workers=0)


@pytest.fixture(scope="module")
def speech_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("speech")
    synthesize("speech-mix", hours=3 * 5 / 3600, out_dir=data, seed=2,
               config=FactoryConfig(sample_rate=16000, example_s=5.0))
    out = tmp_path_factory.mktemp("run-speech")
    recipe = SpeechDetectorRecipe(data=SpeechData(speech_mixes=(str(data),)), train=TINY)
    return recipe, recipe.fit(out, command="cantata train ...")


@pytest.fixture(scope="module")
def mir1k(tmp_path_factory):
    """MIR-1K-style stem folders: a training singer and the validation singers."""
    root = tmp_path_factory.mktemp("mir1k")
    for i, singer in enumerate(["amy", *VAL_SINGERS]):
        clip = root / f"{singer}_1_0{i}"
        clip.mkdir()
        voice = noise(duration_s=3.0, amplitude=0.2, seed=i).samples[0]
        voice[16000:32000] = 0.0  # a second without singing
        sf.write(str(clip / "vocals.wav"), voice, 16000)
        sf.write(str(clip / "accompaniment.wav"), sine(220, duration_s=3.0).samples[0], 16000)
    return str(root)


def test_speech_detector_recipe(speech_run):
    recipe, result = speech_run
    model, checkpoint = load_checkpoint(result.best_path)
    assert checkpoint.name == "speech-detector" and result.steps_done == 2
    assert checkpoint.meta["labels"] == ["speech"] and checkpoint.meta["command"]
    assert checkpoint.meta["features"]["sample_rate"] == 16000
    assert not torch.all(model.front.input_std == 1)  # normalisation fitted on the data
    assert checkpoint.meta["recipe"] == recipe.to_dict()  # the resolved recipe, kept
    assert build_recipe(checkpoint.meta["recipe"]) == recipe


def test_singing_detector_fixed_transfer_keeps_the_moved_layer(speech_run, mir1k, tmp_path):
    _, speech = speech_run
    source, _ = load_checkpoint(speech.best_path)
    recipe = SingingDetectorRecipe(task="multilabel", data=SongData(mir1k=mir1k), train=TINY,
                                   transfer=Transfer(init=str(speech.best_path), layers=1,
                                                     mode="fixed"))
    model, checkpoint = load_checkpoint(recipe.fit(tmp_path).best_path)
    assert checkpoint.meta["transfer"] == {"init": str(speech.best_path), "layers": 1,
                                           "mode": "fixed"}
    assert checkpoint.meta["labels"] == ["vocal", "accompaniment", "silence"]
    assert checkpoint.meta["data"]["train_singers"] == ["amy"]
    assert checkpoint.meta["recipe"]["transfer"]["layers"] == 1
    moved, kept = model.front.blocks[0].state_dict(), source.front.blocks[0].state_dict()
    assert all(torch.equal(moved[k], kept[k]) for k in kept)  # frozen: weights and BN stats
    second = model.front.blocks[1].conv.weight
    assert not torch.equal(second, source.front.blocks[1].conv.weight)


def test_singing_detector_from_scratch_and_causal(mir1k, tmp_path):
    recipe = SingingDetectorRecipe(causal=True, data=SongData(mir1k=mir1k), train=TINY)
    model, checkpoint = load_checkpoint(recipe.fit(tmp_path).best_path)
    assert checkpoint.meta["transfer"]["mode"] == "none" and checkpoint.meta["causal"]
    assert not model.rnn.bidirectional


def test_bad_recipes(mir1k, tmp_path):
    with pytest.raises(ConfigError, match="needs transfer.init"):
        SingingDetectorRecipe(transfer=Transfer(mode="fixed"))
    with pytest.raises(ConfigError, match="held out"):
        SingingDetectorRecipe(data=SongData(mir1k=mir1k, train_singers=(VAL_SINGERS[0],)),
                              train=TINY).fit(tmp_path)
    with pytest.raises(ConfigError, match="no training data: set data.mir1k"):
        SingingDetectorRecipe(train=TINY).fit(tmp_path)
    with pytest.raises(ConfigError, match="no training data: set data.speech_mixes"):
        SpeechDetectorRecipe(train=TINY).fit(tmp_path)
    separator = debug_separator()
    not_speech = save_checkpoint(tmp_path / "sep.pt", separator, name="separator",
                                 config=separator.config, meta={})
    with pytest.raises(ConfigError, match="transfer.init: .* a 'separator' checkpoint"):
        SingingDetectorRecipe(data=SongData(mir1k=mir1k), train=TINY, transfer=Transfer(
            init=str(not_speech), mode="finetune")).fit(tmp_path)


def test_balanced_bce_weighs_the_classes_equally():
    from cantata.train.tasks.detection import balanced_bce, best_threshold

    target = torch.tensor([[[1.0] * 9 + [0.0]]])  # 90 % positive
    mask = torch.ones_like(target, dtype=torch.bool)
    wrong_on_negative = torch.tensor([[[5.0] * 10]])  # confident "yes" everywhere
    wrong_on_one_positive = torch.tensor([[[5.0] * 8 + [-5.0, -5.0]]])
    # missing the single negative costs as much as missing all nine positives would
    assert balanced_bce(wrong_on_negative, target, mask) > \
        balanced_bce(wrong_on_one_positive, target, mask)
    probs = np.array([0.9, 0.8, 0.7, 0.6, 0.65])
    assert best_threshold(probs, np.array([1, 1, 1, 0, 0], bool)) == pytest.approx(0.65)


def test_numpy_singer_names_still_make_a_loadable_checkpoint(mir1k, tmp_path):
    recipe = SingingDetectorRecipe(train=TINY, data=SongData(
        mir1k=mir1k, train_singers=tuple(np.array(["amy"]))))
    _, checkpoint = load_checkpoint(recipe.fit(tmp_path).best_path)  # weights_only loading
    assert checkpoint.meta["data"]["train_singers"] == ["amy"]


def test_singing_detector_goes_on_training_on_produced_mixes_and_leads(mir1k, tmp_path):
    from cantata.train.recipes.detect import DetectorMix

    music = tmp_path / "music"
    music.mkdir()
    sf.write(str(music / "tune.wav"), sine(330, duration_s=6.0).samples[0], 16000)
    first = SingingDetectorRecipe(data=SongData(mir1k=mir1k), train=TINY).fit(tmp_path / "a")
    recipe = SingingDetectorRecipe(
        data=SongData(mir1k=mir1k, instrumentals=(str(music),)), train=TINY,
        mix=DetectorMix(p_production=1.0, p_leads=1.0), init=str(first.best_path))
    model, checkpoint = load_checkpoint(recipe.fit(tmp_path / "b").best_path)
    assert checkpoint.meta["init"] == str(first.best_path)
    assert checkpoint.meta["transfer"]["mode"] == "none"
    assert len(checkpoint.meta["lineage"]) == 1
    assert checkpoint.meta["mix"] == {"p_production": 1.0, "p_leads": 1.0}
    with pytest.raises(ConfigError, match="init: .* not \\['vocal'\\] \\(causal\\)"):
        SingingDetectorRecipe(data=SongData(mir1k=mir1k), train=TINY, causal=True,
                              init=str(first.best_path)).fit(tmp_path / "c")
    with pytest.raises(ConfigError, match="mix.p_leads"):
        SingingDetectorRecipe(mix=DetectorMix(p_leads=2.0))
