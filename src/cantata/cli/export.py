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
                              description="Export a model's core network to ONNX with a JSON "
                                          "sidecar (feature config, labels or stems) and check "
                                          "that ONNX Runtime matches PyTorch. A detector maps "
                                          "log-mel features to logits; a separator maps STFT "
                                          "magnitudes to its mask; an embedder maps a "
                                          "segment's features to its embedding; a continuer "
                                          "maps a sequence of embeddings to the next ones; a "
                                          "defect detector maps log-mel and frame features "
                                          "to logits; a tagger maps log-mel chunks to one "
                                          "logit per tag.")
    onnx.add_argument("model", help="a shipped model name (see `cantata models`, e.g. singing, "
                                    "separator, embedder, continuer, defects, tagger) or a "
                                    "checkpoint path")
    onnx.add_argument("out", type=Path, metavar="OUT.onnx")
    onnx.add_argument("--overwrite", action="store_true")
    onnx.set_defaults(run=run_onnx)


def run_onnx(args: argparse.Namespace, out: Output) -> int:
    from cantata.capabilities import load
    from cantata.export.onnx import check_parity, export_onnx
    from cantata.files import check_overwrite

    check_overwrite(args.out, args.overwrite)
    plan = load(_capability_of(args.model).export)(args.model)
    path = export_onnx(plan.net, plan.examples[0], args.out, input_names=(plan.input_name,),
                       output_names=(plan.output_name,), dynamic_axes=plan.dynamic_axes,
                       sidecar=plan.sidecar)
    diff = max(check_parity(plan.net, path, x, atol=PARITY_ATOL) for x in plan.examples)
    summary = {"onnx": str(path), "sidecar": str(path.with_suffix(".json")),
               "max_abs_diff": diff}
    if out.json_mode:
        out.json(summary)
    else:
        out.summary(f"wrote {path} (+ .json sidecar); ONNX Runtime matches PyTorch within "
                    f"{diff:.1e}")
    return 0


def _capability_of(model: str) -> Any:
    """The exportable capability of a model name (first registered match) or checkpoint.

    Raises:
        ModelLoadError: neither a known name nor a checkpoint file, or nothing to export.
    """
    from cantata.capabilities import CAPABILITIES, capability_of_network, shipped_models
    from cantata.errors import ModelLoadError
    from cantata.models.registry import read_checkpoint_payload

    for cap in CAPABILITIES.values():
        if cap.export is not None and model in cap.model_names():
            return cap
    if Path(model).is_file():
        cap = capability_of_network(read_checkpoint_payload(Path(model))["name"])
        if cap.export is not None:
            return cap
        raise ModelLoadError(f"{model}: {cap.name} models do not export to ONNX")
    names = ", ".join(m.name for _, m in shipped_models())
    raise ModelLoadError(f"unknown model {model!r} (shipped: {names}; or a checkpoint file)")
