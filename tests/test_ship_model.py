"""scripts/ship_model.py: ships through the capability registry, writes the card's facts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from cantata import capabilities
from cantata.models.embedder import debug_embedder
from cantata.models.registry import save_checkpoint

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ship_model.py"


@pytest.fixture
def ship_model(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("ship_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(capabilities, "WEIGHTS_DIR", tmp_path / "weights")
    monkeypatch.setattr(module, "WEIGHTS_DIR", tmp_path / "weights")
    return module


def _checkpoint(tmp_path: Path) -> Path:
    model = debug_embedder()
    return save_checkpoint(tmp_path / "emb.pt", model, name="embedder", config=model.config,
                           meta={"training": {"wall_s": 90.0, "metrics": {"val_mrr": 0.5}}})


def test_ships_weights_and_card_facts(ship_model, tmp_path, monkeypatch):
    ckpt = _checkpoint(tmp_path)
    monkeypatch.setattr(sys, "argv", ["ship_model.py", str(ckpt), "--as", "embedder",
                                      "--data", "tiny", "--headline", "validation=MRR 0.5"])
    ship_model.main()
    model = capabilities.shipped("embedder")
    assert model.path.parent == tmp_path / "weights" and model.path.stem.startswith("embedder-")
    assert model.card_facts() == {"capability": "embed", "data": "tiny",
                                  "training_time_min": 1.5,
                                  "quality": {"validation": "MRR 0.5"}}
    assert capabilities.describe(model)["quality"] == {"validation": "MRR 0.5"}
    # re-shipping without --data or --headline keeps what the card said
    monkeypatch.setattr(sys, "argv", ["ship_model.py", str(ckpt), "--as", "embedder"])
    ship_model.main()
    assert model.card_facts()["data"] == "tiny"


def test_refuses_a_checkpoint_of_another_capability(ship_model, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["ship_model.py", str(_checkpoint(tmp_path)), "--as",
                                      "separator"])
    with pytest.raises(SystemExit, match="cannot ship as 'separator'"):
        ship_model.main()
