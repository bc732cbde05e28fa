"""The tagger's training task, its recipe, and `cantata train tag` on the debug recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cantata.cli import main
from cantata.data.synth.tag_clips import TAGS, write_tag_clips
from cantata.errors import ConfigError
from cantata.features import FeatureConfig
from cantata.models.registry import load_checkpoint
from cantata.tag import Tagger
from cantata.tag.labels import TagItem, read_labels
from cantata.train.recipes import load_recipe
from cantata.train.recipes.tag import TagData, TaggerRecipe, split_groups
from cantata.train.tasks.tag import TagChunks, by_song, tag_metrics

REPO = Path(__file__).resolve().parents[2]
FEATURES = FeatureConfig(kind="logmel", sample_rate=16000, n_fft=512, hop_length=256,
                         n_mels=16, n_mfcc=13)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return write_tag_clips(tmp_path_factory.mktemp("clips"), clips=9, seconds=1.5)


def test_clips_are_labelled_exactly(clips):
    found = read_labels(clips)
    assert set(found.vocabulary) <= set(TAGS) and len(found.items) == 9
    assert all("tone" in item.tags for item in found.items if "high" in item.tags)
    assert write_tag_clips(clips.parent, clips=9) == clips  # kept as made


def test_chunks_carry_their_recordings_tags(clips):
    items = read_labels(clips).items
    train = TagChunks(items, tags=TAGS, features=FEATURES, chunk_s=1.0, length=5, seed=1)
    item = train[3]
    assert item["features"].shape == (16, 63) and item["target"].shape == (4,)
    assert item is not train[3] and np.allclose(train[3]["features"], item["features"])
    val = TagChunks(items, tags=TAGS, features=FEATURES, chunk_s=1.0, val_chunks=2)
    assert len(val) == 18 and int(val[5]["song"]) == 2
    song = items[2]
    assert val[5]["target"].tolist() == [float(t in song.tags) for t in TAGS]


def test_metrics_by_song():
    probs = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.1, 0.6]])
    targets = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], bool)
    scores, truth = by_song(probs, targets, np.array([0, 0, 1, 1]))
    assert np.allclose(scores, [[0.8, 0.2], [0.15, 0.7]])
    metrics = tag_metrics(scores, truth, ("a", "b"))
    assert metrics["roc_auc"] == 1.0 and metrics["f1"] == 1.0
    assert 0.15 < metrics["threshold/a"] < 0.8
    assert tag_metrics(scores[:1], truth[:1], ("a", "b"))["roc_auc"] == 0.5


def test_split_keeps_groups_apart():
    items = [TagItem(f"{i}.wav", frozenset({"x"}), f"g{i % 4}", i) for i in range(12)]
    fit_set, val_set = split_groups(items, 0.25, seed=0)
    assert {i.group for i in fit_set}.isdisjoint({i.group for i in val_set})
    assert len(val_set) == 3 and len(fit_set) == 9
    with pytest.raises(ConfigError, match="at least two groups"):
        split_groups(items[:1], 0.25, seed=0)


def test_recipe_checks(clips, tmp_path):
    with pytest.raises(ConfigError, match="parent:child"):
        TaggerRecipe(cascade="tone")
    with pytest.raises(ConfigError, match="data.format"):
        TaggerRecipe(data=TagData(format="xml"))
    with pytest.raises(ConfigError, match="no training data"):
        TaggerRecipe().fit(tmp_path)
    recipe = TaggerRecipe(data=TagData(labels=str(clips)), cascade="tone:high")
    items, tags = recipe.stage(read_labels(clips))
    assert tags == ("high",) and all("tone" in item.tags for item in items)
    with pytest.raises(ConfigError, match="jazz not among the tags"):
        TaggerRecipe(cascade="tone:jazz").stage(read_labels(clips))
    path = REPO / "configs/tag/debug.yaml"
    assert load_recipe(path, [f"data.labels={clips}"]).labels_file(tmp_path) == str(clips)


@pytest.mark.slow
def test_train_tag_debug_recipe_end_to_end(tmp_path):
    """`cantata train tag` on the debug recipe: 2 steps, thresholds calibrated into the
    checkpoint, and a cascade's child stage on the same clips."""
    config = str(REPO / "configs/tag/debug.yaml")
    assert main(["train", "tag", "--config", config, "--out", str(tmp_path / "run")]) == 0
    _, checkpoint = load_checkpoint(tmp_path / "run" / "best.pt")
    tags = checkpoint.meta["tags"]
    assert checkpoint.name == "tagger" and set(tags) == set(TAGS)
    assert set(checkpoint.meta["thresholds"]) == set(tags)
    assert checkpoint.meta["calibration"]["recordings"] == \
        checkpoint.meta["data"]["val_recordings"]
    tagger = Tagger.from_pretrained(tmp_path / "run" / "best.pt")
    assert tagger.thresholds.tolist() == [checkpoint.meta["thresholds"][t] for t in tags]
    assert main(["train", "tag", "--config", config, "--out", str(tmp_path / "cascade"),
                 "--set", "cascade=tone:high"]) == 0
    _, child = load_checkpoint(tmp_path / "cascade" / "best.pt")
    assert child.meta["tags"] == ["high"]
    assert child.meta["cascade"] == {"parent": "tone", "child": "high"}
