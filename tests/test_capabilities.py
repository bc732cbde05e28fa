"""The capability registry: every entry resolves, every shipped model is complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from cantata import capabilities
from cantata.capabilities import CAPABILITIES, capability, load, model_path, shipped_models
from cantata.errors import ModelLoadError
from cantata.models.registry import read_checkpoint_payload, registered

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list(CAPABILITIES))
def test_every_import_string_resolves(name):
    cap = CAPABILITIES[name]
    targets = [cap.api, *cap.debug.values(), *cap.recipes.values()]
    targets += [t for t in (cap.routes, cap.export) if t is not None]
    targets += [f"{m}:__name__" for m in cap.networks.values()]
    if cap.cli is not None:
        targets.append(f"{cap.cli}:add_parser")
    for target in targets:
        assert load(target) is not None, target
    if cap.analyzer is not None:
        module = load(f"{cap.analyzer}:ANALYZER")
        assert module.name == name
    assert set(cap.networks) <= set(registered())


@pytest.mark.parametrize(("cap", "model"), list(shipped_models()),
                         ids=[m.name for _, m in shipped_models()])
def test_every_shipped_model_has_weights_card_and_recipe(cap, model):
    payload = read_checkpoint_payload(model.path)
    assert payload["name"] in cap.networks
    assert model.card.is_file() and (REPO / model.recipe).is_file()
    assert model.recipe.startswith(f"configs/{cap.name}/")
    facts = model.card_facts()
    assert facts["capability"] == cap.name and facts["data"] and facts["quality"]
    assert model.recipe in model.card.read_text()  # the card points to its recipe


def test_names_are_unique_within_a_capability():
    for cap in CAPABILITIES.values():
        assert len(cap.model_names()) == len(set(cap.model_names())), cap.name
    names = [m.name for _, m in shipped_models()]
    assert len(names) == len(set(names))


def test_model_path_names_the_available_models(tmp_path):
    assert model_path("separator", "separate").name.startswith("separator-")
    with pytest.raises(ModelLoadError, match="available: separator, debug"):
        model_path("nope", "separate")
    ckpt = tmp_path / "x.pt"
    ckpt.write_bytes(b"")
    assert model_path(ckpt, "separate") == ckpt
    with pytest.raises(ModelLoadError, match="unknown capability 'nope'"):
        capability("nope")


def test_missing_weights_say_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setattr(capabilities, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelLoadError, match="configs/embed/embedder.yaml"):
        model_path("embedder", "embed")


def test_weights_identity(tmp_path):
    shipped = capabilities.shipped_path("singing")
    assert capabilities.weights_identity(shipped) == shipped.stem
    other = tmp_path / "best.pt"
    other.write_bytes(b"abc")
    identity = capabilities.weights_identity(other)
    assert identity.startswith("best-") and len(identity) == len("best-") + 8
