"""Recipe files and overrides: every YAML in configs/ builds, overrides reach nested keys,
mistakes are named by their config keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from cantata.capabilities import CAPABILITIES, shipped_models
from cantata.errors import ConfigError
from cantata.train.config import TrainConfig
from cantata.train.recipes import build_recipe, load_recipe, read_recipe, recipe_class
from cantata.train.recipes.schema import build, merge, set_key

REPO = Path(__file__).resolve().parents[2]
CONFIGS_DIR = REPO / "configs"
CONFIGS = sorted(CONFIGS_DIR.glob("*/*.yaml"))


def test_every_capability_has_a_debug_recipe_and_every_shipped_model_its_recipe():
    assert {p.parent.name for p in CONFIGS} == {c.name for c in CAPABILITIES.values()
                                                if c.recipes}
    for cap in CAPABILITIES.values():  # a rule-based capability (assess) trains nothing
        assert (CONFIGS_DIR / cap.name / "debug.yaml").is_file() or not cap.recipes
    for _, model in shipped_models():
        assert (REPO / model.recipe).is_file(), model.recipe


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recipe_file_builds_its_recipe(path: Path):
    recipe = load_recipe(path, capability=path.parent.name)
    assert recipe.name == read_recipe(path)["recipe"]
    assert recipe.capability == path.parent.name
    assert build_recipe(recipe.to_dict()) == recipe  # the resolved recipe reads back
    if path.stem == "debug":
        assert recipe.train.max_steps == 2


def test_recipe_classes_are_the_registrys():
    for cap in CAPABILITIES.values():
        for name in cap.recipes:
            cls = recipe_class(name)
            assert cls.name == name and cls.capability == cap.name
            assert isinstance(cls().train, TrainConfig)


def test_overrides_reach_nested_keys_lists_and_optional_groups():
    path = CONFIGS_DIR / "separate" / "separator.yaml"
    recipe = load_recipe(path, ["train.lr=1e-4", "data.songs=[a, b]", "model.fold=[2, 2]",
                                "model.architecture.channels=[4, 8]",
                                "model.architecture.strides=[[4, 1], [2, 2]]",
                                ("train.seed", 7), "train.seed=8", "model.init=null"])
    assert recipe.train.lr == 1e-4 and isinstance(recipe.train.lr, float)
    assert recipe.data.songs == ("a", "b") and recipe.model.fold == (2, 2)
    assert recipe.model.architecture.channels == (4, 8)
    assert recipe.model.architecture.strides == ((4, 1), (2, 2))
    assert recipe.train.seed == 8  # later ones win
    assert recipe.model.init is None
    assert recipe.train.max_steps == 1200  # the rest from the file
    assert recipe.data.train_singers[0] == "amy"


def test_a_mapping_override_merges_into_the_group():
    recipe = build_recipe({"recipe": "embedder"},
                          ["model={dim: 8, features: {n_mels: 16, n_mfcc: 13}}"])
    assert recipe.model.dim == 8 and recipe.model.features.n_mels == 16
    assert recipe.model.features.hop_length == 320 and recipe.model.system == "dssm"


@pytest.mark.parametrize(("override", "message"), [
    ("train.lrr=1", r"unknown key train.lrr; known keys: train.max_steps, .*train.lr,"),
    ("dat.mir1k=x", r"unknown key dat; known keys: task, causal, data, transfer, mix, init, train"),
    ("train.lr=fast", r"train.lr: expected a number, got 'fast'"),
    ("train.max_steps=1.5", r"train.max_steps: expected an int, got 1.5"),
    ("data.songs=one", r"data.songs: expected a list, got 'one'"),
    ("transfer.layers=two", r"transfer.layers: expected an int or 'all', got 'two'"),
    ("task=tri", r"task: expected one of \['binary', 'multilabel'\], got 'tri'"),
    ("train.lr=-1", r"train: lr must be positive"),
    ("transfer.mode=fixed", r"transfer.mode 'fixed' needs transfer.init"),
    ("train.lr.x=1", r"train.lr is 0.001, not a mapping"),
    ("train.lr", r"an override is KEY=VALUE"),
    ("causal=[1", r"causal: cannot read"),
])
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        build_recipe({"recipe": "singing-detector"}, [override])


def test_separator_checks_name_their_keys():
    with pytest.raises(ConfigError, match=r"mix.p_pitch_tempo: the pitch/tempo probability"):
        build_recipe({"recipe": "separator"}, ["mix.p_pitch_tempo=1.5"])
    with pytest.raises(ConfigError, match=r"model.mask must be one of"):
        build_recipe({"recipe": "separator"}, ["model.mask=ibm"])
    with pytest.raises(ConfigError, match=r"model.architecture: channels \(4,\) and strides"):
        build_recipe({"recipe": "separator"}, ["model.architecture.channels=[4]"])


def test_bad_recipe_files(tmp_path):
    with pytest.raises(ConfigError, match="unknown recipe 'nope'; known: speech-detector"):
        build_recipe({"recipe": "nope"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {mir1k: x}\n")
    with pytest.raises(ConfigError, match="bad.yaml: needs a 'recipe:' key"):
        load_recipe(bad)
    bad.write_text("recipe: separator\ndata: [\n")
    with pytest.raises(ConfigError, match="bad.yaml: cannot read the recipe"):
        load_recipe(bad)
    with pytest.raises(ConfigError, match="cannot read the recipe"):
        load_recipe(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"recipe 'separator' does not train a 'detect' model "
                                          r"\(its recipes: speech-detector, singing-detector\)"):
        load_recipe(CONFIGS_DIR / "separate" / "debug.yaml", capability="detect")


def test_schema_helpers():
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}
    tree = {"a": None}
    set_key(tree, "a.b.c", 1)
    assert tree == {"a": {"b": {"c": 1}}}
    with pytest.raises(ConfigError, match="bad config key"):
        set_key(tree, "a..b", 1)
    assert build(TrainConfig, {"lr": "1e-4"}).lr == 1e-4
    with pytest.raises(ConfigError, match="TrainConfig needs a mapping"):
        build(TrainConfig, [1])
