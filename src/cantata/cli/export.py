"""``cantata export onnx MODEL OUT.onnx``: the core network for other runtimes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cantata.cli.output import Output

PARITY_ATOL = 1e-4


def add_parser(sub: Any, *, parents: list[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="export a model for other runtimes")
    formats = export.add_subparsers(dest="format", required=True, metavar="FORMAT")
    onnx = formats.add_parser("onnx", parents=parents, help="ONNX (features in, logits out)",
                              description="Export a detector's network to ONNX with a JSON "
                                          "sidecar (feature config, labels) and check that "
                                          "ONNX Runtime matches PyTorch.")
    onnx.add_argument("model", help="a shipped model name (e.g. singing) or a checkpoint path")
    onnx.add_argument("out", type=Path, metavar="OUT.onnx")
    onnx.add_argument("--overwrite", action="store_true")
    onnx.set_defaults(run=run_onnx)


def run_onnx(args: argparse.Namespace, out: Output) -> int:
    import torch

    from cantata.detect.api import VoiceDetector
    from cantata.errors import CantataError
    from cantata.export.onnx import check_parity, export_onnx

    if args.out.exists() and not args.overwrite:
        raise CantataError(f"{args.out}: file exists (use --overwrite to replace it)")
    detector = VoiceDetector.from_pretrained(args.model)
    n_mels = detector.features.n_mels
    example = torch.randn(1, n_mels, 250, generator=torch.Generator().manual_seed(0))
    path = export_onnx(detector.model, example, args.out, sidecar={
        "model": str(args.model), "features": detector.features.to_dict(),
        "labels": list(detector.labels), "output": "logits (apply a sigmoid per label)"})
    diff = check_parity(detector.model, path, example, atol=PARITY_ATOL)
    diff_long = check_parity(detector.model, path, torch.randn(2, n_mels, 777), atol=PARITY_ATOL)
    summary = {"onnx": str(path), "sidecar": str(path.with_suffix(".json")),
               "max_abs_diff": max(diff, diff_long)}
    if out.json_mode:
        out.json(summary)
    else:
        out.show(f"wrote {path} (+ .json sidecar); ONNX Runtime matches PyTorch within "
                 f"{summary['max_abs_diff']:.1e}")
    return 0
