"""A tagger checkpoint exports to ONNX with parity, its thresholds in the sidecar."""

from __future__ import annotations

import json

from cantata.cli import main
from cantata.models.registry import save_checkpoint
from cantata.models.tagger import debug_tagger


def test_tagger_checkpoint_exports_with_parity(tmp_path, capsys):
    net = debug_tagger()
    ckpt = save_checkpoint(tmp_path / "tagger.pt", net, name="tagger", config=net.config,
                           meta={"thresholds": {"beat": 0.3}})
    out = tmp_path / "tagger.onnx"
    assert main(["export", "onnx", str(ckpt), str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_abs_diff"] < 1e-4
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["tags"] == ["tone", "noise", "beat"]
    assert sidecar["thresholds"] == [0.5, 0.5, 0.3] and sidecar["pooling"] == "mean"
    assert sidecar["outputs"][0]["name"] == "logits"
