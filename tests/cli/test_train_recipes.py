"""`cantata train CAPABILITY --config FILE [--set ...]`, and the old flags as aliases of
config keys: the shipped models' commands give their recipe files."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from cantata.capabilities import CAPABILITIES, shipped_models
from cantata.cli import build_parser, main
from cantata.cli.train import recipe_of
from cantata.models.registry import load_checkpoint
from cantata.train.recipes import build_recipe, load_recipe

REPO = Path(__file__).resolve().parents[2]


def _recipe(*argv: str):
    """The recipe a `cantata train ...` command line describes (nothing runs)."""
    return recipe_of(build_parser().parse_args(["train", *argv, "--out", "RUN"]))


def _card_command(card: Path) -> list[str]:
    """The training command of a model card, without ``cantata`` and ``--out``."""
    command = re.search(r"^Command: `(.*)`$", card.read_text(), re.MULTILINE).group(1)
    argv = shlex.split(command.split("  (")[0])[1:]  # speech: "(speech4: how it was made)"
    at = argv.index("--out")
    return argv[:at] + argv[at + 2:]


@pytest.mark.parametrize("model", [m for _, m in shipped_models()], ids=lambda m: m.name)
def test_the_shipped_models_commands_give_their_recipe_files(model):
    argv = recipe_of(build_parser().parse_args(_card_command(model.card) + ["--out", "RUN"]))
    assert argv == load_recipe(REPO / model.recipe)
    assert f"Recipe: `{model.recipe}`" in model.card.read_text()


def test_flags_are_aliases_of_config_keys():
    assert _recipe("separator", "--mir1k", "m", "--songs", "a", "--songs", "b",
                   "--train-singers", "amy,bob", "--test-singers", "abjones,", "--fold", "2x2",
                   "--pitch-tempo", "0.5", "--channels", "2", "--mask", "psm",
                   "--phase-steps", "1", "--steps", "3", "--lr", "1e-4",
                   "--keep-checkpoints") == build_recipe(
        {"recipe": "separator"},
        ["data.mir1k=m", "data.songs=[a, b]", "data.train_singers=[amy, bob]",
         "data.test_singers=[abjones]", "model.fold=[2, 2]", "mix.p_pitch_tempo=0.5",
         "mix.channels=2", "model.mask=psm", "model.phase_steps=1", "train.max_steps=3",
         "train.lr=1e-4", "train.keep_checkpoints=true"])
    assert _recipe("embedder", "--feature", "mfcc", "--no-prior", "--system", "adjacency",
                   "--degrade", "0.5", "--temperature", "1", "--cache", "c") == build_recipe(
        {"recipe": "embedder"},
        ["model.features.kind=mfcc", "model.features.n_mfcc=20", "model.prior=false",
         "model.system=adjacency", "augment.degrade=0.5", "objective.temperature=1",
         "data.cache=c"])
    assert _recipe("singing-detector", "--layers", "2", "--causal", "--init", "s.pt",
                   "--mode", "fixed", "--workers", "0") == build_recipe(
        {"recipe": "singing-detector"},
        ["transfer.layers=2", "causal=true", "transfer.init=s.pt", "transfer.mode=fixed",
         "train.num_workers=0"])
    assert _recipe("speech-detector", "--data", "d", "--seed", "3") == build_recipe(
        {"recipe": "speech-detector"}, ["data.speech_mixes=[d]", "train.seed=3"])
    assert _recipe("continuer", "--embedder", "debug", "--batch-size", "4") == build_recipe(
        {"recipe": "continuer"}, ["embedder=debug", "train.batch_size=4"])


def test_the_old_defaults_are_the_recipes_defaults():
    singing = _recipe("singing-detector")
    assert (singing.task, singing.causal, singing.transfer.mode) == ("binary", False, "none")
    assert (singing.train.max_steps, singing.train.batch_size, singing.train.eval_every,
            singing.train.patience, singing.train.num_workers) == (1500, 16, 250, 4, 2)
    embedder = _recipe("embedder")
    assert embedder.model.system == "dssm" and embedder.objective.generator_lr_scale == 0.1
    assert (embedder.train.batch_size, embedder.train.patience) == (32, 0)


def test_a_recipe_file_then_flags_then_set():
    path = str(REPO / "configs/separate/separator.yaml")
    recipe = _recipe("separator", "--config", path, "--steps", "5", "--seed", "1",
                     "--set", "train.seed=2", "--set", "data.songs=[x]")
    assert recipe.train.max_steps == 5 and recipe.train.seed == 2
    assert recipe.data.songs == ("x",) and recipe.mix.p_production == 0.5
    assert _recipe("separate", "--config", path, "--set", "train.max_steps=5") == \
        load_recipe(path, ["train.max_steps=5"])


def test_every_capability_with_recipes_is_a_train_command(capsys):
    for cap in CAPABILITIES.values():
        if cap.recipes:
            with pytest.raises(SystemExit):
                main(["train", cap.name, "--help"])
            assert "--config FILE" in capsys.readouterr().out


def test_a_recipe_of_another_capability_or_recipe_exits_2(tmp_path, capsys):
    separate = str(REPO / "configs/separate/debug.yaml")
    assert main(["train", "detect", "--config", separate, "--out", str(tmp_path)]) == 2
    assert "recipe 'separator' does not train a 'detect' model" in capsys.readouterr().err
    assert main(["train", "embedder", "--config", separate, "--out", str(tmp_path)]) == 2
    assert "a 'separator' recipe, not a 'embedder' one" in capsys.readouterr().err
    assert main(["train", "separate", "--config", separate, "--set", "train.lrr=1",
                 "--out", str(tmp_path)]) == 2
    assert "unknown key train.lrr; known keys: train.max_steps" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("capability", [c for c in CAPABILITIES if CAPABILITIES[c].recipes])
def test_train_each_capability_from_its_debug_recipe(capability, tmp_path, capsys):
    path = REPO / "configs" / capability / "debug.yaml"
    assert main(["train", capability, "--config", str(path), "--out", str(tmp_path / "run"),
                 "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 2
    _, checkpoint = load_checkpoint(summary["best"])
    assert checkpoint.meta["recipe"] == load_recipe(path).to_dict()
    assert checkpoint.meta["command"].startswith("cantata ")
