"""``cantata models`` and ``cantata export onnx`` for every kind of model."""

from __future__ import annotations

import json

import pytest

from cantata.capabilities import shipped_models
from cantata.cli import main


def test_models_json_lists_every_shipped_model(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [m.name for _, m in shipped_models()]
    for row in rows:
        assert row["version"].startswith(row["file"].rsplit("/", 1)[-1][:-12])
        assert row["size_bytes"] > 10_000 and row["quality"] and row["data"]
        assert row["capability"] in ("detect", "separate", "embed", "continue", "defects", "tag",
                                     "restore")


def test_models_table_and_filter(capsys):
    assert main(["models", "--capability", "separate"]) == 0
    shown = capsys.readouterr().out
    assert "separator" in shown and "singing" not in shown
    assert main(["models", "--capability", "nope"]) == 2
    assert "unknown capability 'nope'" in capsys.readouterr().err


def test_debug_embedder_checkpoint_exports_with_parity(tmp_path, capsys):
    from cantata.models.embedder import debug_embedder
    from cantata.models.registry import save_checkpoint

    model = debug_embedder()
    ckpt = save_checkpoint(tmp_path / "emb.pt", model, name="embedder", config=model.config,
                           meta={})
    out = tmp_path / "emb.onnx"
    assert main(["export", "onnx", str(ckpt), str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_abs_diff"] < 1e-4
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["dim"] == model.config.dim
    assert sidecar["outputs"][0]["name"] == "embedding"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["singing", "embedder", "continuer", "restorer"])
def test_shipped_models_export_with_parity(name, tmp_path, capsys):
    out = tmp_path / f"{name}.onnx"
    assert main(["export", "onnx", name, str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_abs_diff"] < 1e-4


def test_export_of_an_unknown_model_lists_the_shipped_ones(tmp_path, capsys):
    assert main(["export", "onnx", "nope", str(tmp_path / "x.onnx")]) == 2
    assert "shipped: singing" in capsys.readouterr().err
