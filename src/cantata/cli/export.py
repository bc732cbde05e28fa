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
                              description="Export a detector's or a separator's network to "
                                          "ONNX with a JSON sidecar (feature config, labels or "
                                          "stems) and check that ONNX Runtime matches PyTorch. "
                                          "A detector maps log-mel features to logits; a "
                                          "separator maps STFT magnitudes to its mask.")
    onnx.add_argument("model", help="a shipped model name (e.g. singing, separator) or a "
                                    "checkpoint path")
    onnx.add_argument("out", type=Path, metavar="OUT.onnx")
    onnx.add_argument("--overwrite", action="store_true")
    onnx.set_defaults(run=run_onnx)


def run_onnx(args: argparse.Namespace, out: Output) -> int:
    from cantata.errors import CantataError

    if args.out.exists() and not args.overwrite:
        raise CantataError(f"{args.out}: file exists (use --overwrite to replace it)")
    path, diff = (_export_separator if _is_separator(args.model) else _export_detector)(
        args.model, args.out)
    summary = {"onnx": str(path), "sidecar": str(path.with_suffix(".json")),
               "max_abs_diff": diff}
    if out.json_mode:
        out.json(summary)
    else:
        out.show(f"wrote {path} (+ .json sidecar); ONNX Runtime matches PyTorch within "
                 f"{summary['max_abs_diff']:.1e}")
    return 0


def _is_separator(model: str) -> bool:
    """A shipped separator name, or a checkpoint file of a separator."""
    from cantata.models.registry import read_checkpoint_payload
    from cantata.separate.api import SHIPPED

    if model in SHIPPED:
        return True
    return Path(model).is_file() and read_checkpoint_payload(Path(model))["name"] == "separator"


def _export_detector(model: str, dest: Path) -> tuple[Path, float]:
    """(graph path, max |ONNX - PyTorch|): log-mel (batch, n_mels, frames) -> logits."""
    import torch

    from cantata.detect.api import VoiceDetector
    from cantata.export.onnx import check_parity, export_onnx

    detector = VoiceDetector.from_pretrained(model)
    n_mels = detector.features.n_mels
    example = torch.randn(1, n_mels, 250, generator=torch.Generator().manual_seed(0))
    path = export_onnx(detector.model, example, dest, sidecar={
        "model": str(model), "features": detector.features.to_dict(),
        "labels": list(detector.labels), "output": "logits (apply a sigmoid per label)"})
    diff = check_parity(detector.model, path, example, atol=PARITY_ATOL)
    diff_long = check_parity(detector.model, path, torch.randn(2, n_mels, 777), atol=PARITY_ATOL)
    return path, max(diff, diff_long)


def _export_separator(model: str, dest: Path) -> tuple[Path, float]:
    """(graph path, max |ONNX - PyTorch|): STFT magnitudes (batch, channels, freq, frames)
    -> the first stem's mask (batch, channels, parts, freq, frames)."""
    import torch

    from cantata.export.onnx import check_parity, export_onnx
    from cantata.separate.api import load_backend

    net = load_backend(model).model  # type: ignore[attr-defined]
    config = net.config
    g = torch.Generator().manual_seed(0)
    example = torch.rand(1, 2, config.n_freq, 250, generator=g)
    axes = {"magnitude": {0: "batch", 1: "channels", 3: "frames"},
            "mask": {0: "batch", 1: "channels", 4: "frames"}}
    path = export_onnx(net, example, dest, input_names=("magnitude",), output_names=("mask",),
                       dynamic_axes=axes, sidecar={
        "model": str(model), "features": config.features.to_dict(),
        "stems": list(config.stems), "mask": config.mask, "phase_steps": config.phase_steps,
        "input": "|STFT| of the mixture at features.sample_rate (features.n_fft, "
                 "hop_length, window), (batch, channels, freq, frames)",
        "output": f"the {config.stems[0]} mask, (batch, channels, parts, freq, frames): parts "
                  "= 1 for irm and psm (real), 2 for cirm (real, imaginary); multiply the "
                  f"mixture STFT by it for {config.stems[0]}, then phase_steps times put "
                  "its magnitudes under the phase of STFT(ISTFT(it)); "
                  f"{config.stems[1]} is the mixture minus that"})
    diff = check_parity(net, path, example, atol=PARITY_ATOL)
    diff_long = check_parity(net, path, torch.rand(3, 1, config.n_freq, 777, generator=g),
                             atol=PARITY_ATOL)
    return path, max(diff, diff_long)
