"""ONNX export of a toy frame classifier: sidecar, dynamic batch and frames, parity (P9)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from cantata.errors import CantataError, ConfigError, ModelLoadError, ShapeError
from cantata.features import FeatureConfig

pytest.importorskip("onnxruntime")

from cantata.export import OnnxModel, check_parity, export_onnx  # noqa: E402

N_FEATURES, N_LABELS = 6, 3


class FrameNet(nn.Module):
    """Features (batch, 6, n_frames) -> logits (batch, 3, n_frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Conv1d(N_FEATURES, 8, 5, padding=2)
        self.dropout = nn.Dropout(0.5)
        self.head = nn.Conv1d(8, N_LABELS, 1)

    def forward(self, features: Tensor) -> Tensor:
        centred = features - features.mean(dim=-1, keepdim=True)  # depends on n_frames
        return self.head(self.dropout(torch.relu(self.body(centred))))


SIDECAR = {"feature_config": FeatureConfig().to_dict(), "labels": ["a", "b", "c"]}


@pytest.fixture
def model() -> FrameNet:
    torch.manual_seed(0)
    return FrameNet()


@pytest.fixture
def exported(model: FrameNet, tmp_path: Path) -> Path:
    return export_onnx(model, torch.randn(1, N_FEATURES, 20), tmp_path / "net", sidecar=SIDECAR)


def test_export_writes_graph_and_sidecar(exported: Path, tmp_path: Path) -> None:
    assert exported == tmp_path / "net.onnx" and exported.is_file()
    sidecar = json.loads((tmp_path / "net.json").read_text())
    assert sidecar["inputs"] == [
        {"name": "features", "shape": ["batch", N_FEATURES, "frames"], "type": "tensor(float)"}
    ]
    assert sidecar["outputs"] == [
        {"name": "logits", "shape": ["batch", N_LABELS, "frames"], "type": "tensor(float)"}
    ]
    assert sidecar["feature_config"] == FeatureConfig().to_dict()
    assert sidecar["labels"] == ["a", "b", "c"] and sidecar["opset_version"] == 17
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json", "net.onnx"]


@pytest.mark.parametrize(("batch", "n_frames"), [(1, 20), (3, 57), (2, 1)])
def test_parity_with_dynamic_batch_and_frames(
    model: FrameNet, exported: Path, batch: int, n_frames: int
) -> None:
    features = torch.randn(batch, N_FEATURES, n_frames)
    assert check_parity(model, exported, features, atol=1e-5) <= 1e-5
    logits = OnnxModel(exported)(features.numpy())
    assert logits.shape == (batch, N_LABELS, n_frames) and logits.dtype == np.float32


def test_export_and_parity_keep_the_training_mode(model: FrameNet, exported: Path) -> None:
    model.train()
    check_parity(model, exported, torch.randn(2, N_FEATURES, 9))
    assert model.training and model.dropout.training


def test_parity_failure_raises(model: FrameNet, exported: Path) -> None:
    with torch.no_grad():
        model.head.bias.add_(0.1)
    with pytest.raises(CantataError, match="differs from torch by 0.1"):
        check_parity(model, exported, torch.randn(1, N_FEATURES, 20))


def test_onnx_model_reads_sidecar_and_checks_shapes(exported: Path) -> None:
    runtime = OnnxModel(exported)
    assert runtime.sidecar is not None and runtime.sidecar["labels"] == ["a", "b", "c"]
    assert runtime.input_shape == ["batch", N_FEATURES, "frames"]
    with pytest.raises(ShapeError, match=r"got \(6, 20\)"):
        runtime(np.zeros((N_FEATURES, 20)))
    with pytest.raises(ShapeError, match=r"got \(1, 5, 20\)"):
        runtime(np.zeros((1, 5, 20)))
    assert runtime(np.zeros((1, N_FEATURES, 4), dtype=np.float64)).shape == (1, N_LABELS, 4)


def test_bad_sidecar_or_names_raise_config_error(model: FrameNet, tmp_path: Path) -> None:
    features = torch.randn(1, N_FEATURES, 8)
    with pytest.raises(ConfigError, match="JSON-like"):
        export_onnx(model, features, tmp_path / "a.onnx", sidecar={"path": tmp_path})
    with pytest.raises(ConfigError, match=r"reserved"):
        export_onnx(model, features, tmp_path / "a.onnx", sidecar={"inputs": []})
    with pytest.raises(ConfigError, match="one input and one output"):
        export_onnx(model, features, tmp_path / "a.onnx", output_names=("a", "b"), sidecar={})
    assert not list(tmp_path.iterdir())


class ClipNet(nn.Module):
    """Features (batch, 6, n_frames) -> clip logits (batch, 6): no frame axis out."""

    def forward(self, features: Tensor) -> Tensor:
        return features.mean(dim=-1)


def test_clip_level_output_keeps_its_label_axis(tmp_path: Path) -> None:
    features = torch.randn(2, N_FEATURES, N_FEATURES)  # n_frames == n_labels on purpose
    path = export_onnx(ClipNet(), features, tmp_path / "clip.onnx", sidecar={})
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["outputs"][0]["shape"] == ["batch", N_FEATURES]
    assert check_parity(ClipNet(), path, torch.randn(1, N_FEATURES, 31)) < 1e-5


def test_not_a_graph_raises_model_load_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not protobuf")
    with pytest.raises(ModelLoadError, match="not a usable ONNX graph"):
        OnnxModel(bad)
    with pytest.raises(ModelLoadError, match="not a file"):
        OnnxModel(tmp_path / "missing.onnx")
