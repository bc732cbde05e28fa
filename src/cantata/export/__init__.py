"""Export of core nets to other runtimes, with a sidecar and a parity check (P9)."""

from __future__ import annotations

from cantata.export.onnx import OnnxModel, check_parity, export_onnx

__all__ = ["OnnxModel", "check_parity", "export_onnx"]
