"""Compare trained defect detectors, e.g. one per MIL pooling, on their validation figures.

Usage:
    python bench/defects_pooling.py RUN_OR_CKPT [RUN_OR_CKPT ...] [--json]

Train the runs first, the same recipe with one setting changed, e.g. for every pooling:

    for p in max mean attention linear_softmax auto; do
      cantata train defects --config configs/defects/defect-detector.yaml \\
          --set model.pooling=$p --set train.max_steps=600 --out runs/pool-$p
    done

For each run (its ``best.pt``), the table gives the pooling, the labels (weak/strong), the
step of the best checkpoint, the mean clip-level ROC-AUC over types at that step
(``clip_auc/<type>`` of its validation), and per type the event F1 of the model alone on the
strongly labelled validation clips, at the best model threshold its calibration found
(``meta["calibration"]["model_only"]``); then the same with the calibrated decisions (the
model, the rules or the rules the model confirms). Every figure is on the run's own
validation tracks (held out from its training by the split), not a test set.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cantata.data.labels import DEFECT_TYPES
from cantata.errors import CantataError
from cantata.models.registry import load_checkpoint


def row(path: Path) -> dict[str, Any]:
    """One run's figures."""
    ckpt = path / "best.pt" if path.is_dir() else path
    _, checkpoint = load_checkpoint(ckpt)
    meta = checkpoint.meta
    metrics = meta.get("training", {}).get("metrics", {})
    calibration = meta.get("calibration") or {}
    aucs = [v for k, v in metrics.items() if k.startswith("clip_auc/")]
    return {
        "run": str(path), "pooling": meta.get("pooling"), "labels": meta.get("labels"),
        "step": meta.get("training", {}).get("step"),
        "clip_auc": round(sum(aucs) / len(aucs), 3) if aucs else None,
        "model_only_f1": {t: c["f1"] for t, c in calibration.get("model_only", {}).items()},
        "decided_f1": {t: c["f1"] for t, c in calibration.get("types", {}).items()},
        "sources": {t: c["source"] for t, c in calibration.get("types", {}).items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    args = parser.parse_args(argv)
    rows = [row(p) for p in args.runs]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    short = [t[:6] for t in DEFECT_TYPES]
    print("event F1 on validation clips, the model alone | with the calibrated decisions")
    print(f"{'pooling':<15} {'labels':<7} {'step':>5} {'clipAUC':>7}  "
          + " ".join(f"{t:>6}" for t in short) + "  | " + " ".join(f"{t:>6}" for t in short))
    for r in rows:
        alone = " ".join(f"{r['model_only_f1'].get(t, float('nan')):>6.2f}" for t in DEFECT_TYPES)
        decided = " ".join(f"{r['decided_f1'].get(t, float('nan')):>6.2f}" for t in DEFECT_TYPES)
        print(f"{r['pooling'] or '-':<15} {r['labels'] or '-':<7} {r['step'] or 0:>5} "
              f"{r['clip_auc'] or float('nan'):>7.3f}  {alone}  | {decided}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CantataError as err:
        print(f"defects_pooling: {err}", file=sys.stderr)
        sys.exit(1)
