"""What weak labels cost the candidate verifier: the same trained defect detector with its
verifier refitted from weak clip labels and from strong (per-candidate) labels.

Usage:
    python bench/defects_verifier_labels.py RUN/best.pt --work DIR --test DIR [--test DIR ...]
        [--config configs/defects/defect-detector-verifier.yaml]

The recipe (``--config``) gives the data and its split by source track, exactly as
training used them. For each of ``weak`` and ``strong``, a copy of the checkpoint in
``--work`` gets its verifier refitted on the training clips' candidates
(``DefectDetectorRecipe.fit_verifier``, the recipe's settings but the labels) and its
decisions recalibrated on the validation clips, then every ``--test`` set (made by
``cantata data synth defects``; a clean set counts its false alarms) is scored by
``bench/defects_eval.py``. Prints a table per type the verifier tells apart: event F1
(tp/fp/fn), the decision calibration chose, false events per hour on clean records.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import defects_eval  # noqa: E402
from cantata.data.records import read_manifest  # noqa: E402
from cantata.defects.calibration import calibrate_checkpoint  # noqa: E402
from cantata.models.registry import load_checkpoint  # noqa: E402
from cantata.train.recipes import load_recipe  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def refit(checkpoint: Path, out: Path, recipe: Any, fit_set: list[Any],
          val_set: list[Any]) -> dict[str, Any]:
    """A copy of ``checkpoint`` at ``out`` with its verifier refitted as ``recipe`` says
    (its ``verifier.labels`` among them) and its decisions recalibrated; returns its
    decisions."""
    shutil.copyfile(checkpoint, out)
    recipe.fit_verifier(out, fit_set, val_set)
    calibrate_checkpoint(out, val_set, catalog_clean_share=recipe.catalog_clean_share)
    return load_checkpoint(out)[1].meta["decision"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--work", type=Path, required=True, help="folder for the copies")
    parser.add_argument("--test", type=Path, action="append", required=True)
    parser.add_argument("--config", type=Path,
                        default=REPO / "configs" / "defects" / "defect-detector-verifier.yaml")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    recipe = load_recipe(args.config, capability="defects")
    fit_set, val_set = recipe.split(recipe.examples(list(recipe.data.clips)))
    types = load_checkpoint(args.checkpoint)[0].verifier.types
    examples = [ex for folder in args.test for ex in read_manifest(folder)]
    rows = []
    for labels in ("weak", "strong"):
        copy = args.work / f"verifier-{labels}.pt"
        settings = dataclasses.replace(recipe.verifier, labels=labels)
        decisions = refit(args.checkpoint, copy, dataclasses.replace(recipe, verifier=settings),
                          fit_set, val_set)
        scored = defects_eval.evaluate(examples, defects_eval.detectors([], str(copy)))
        result = next(iter(scored["detectors"].values()))
        false_alarms = result["false_alarms_per_hour"]
        for name in types:
            event = result["event"][name]
            rows.append((labels, name, f"{event['f1']:.2f} ({event['tp']}/{event['fp']}/"
                         f"{event['fn']})", _decision(decisions[name]),
                         "—" if false_alarms is None else f"{false_alarms[name]:.0f}"))
    print(f"\n{args.checkpoint}, tested on {', '.join(map(str, args.test))} "
          f"({len(examples)} records)")
    header = ("verifier labels", "type", "event F1 (tp/fp/fn)", "decision", "false events/h")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return 0


def _decision(d: dict[str, Any]) -> str:
    if d["source"] in ("confirmed", "verified"):
        return f"{d['source']} {d['confirm']}"
    return d["source"] if d["source"] == "rules" else f"model {d['threshold']}"


if __name__ == "__main__":
    sys.exit(main())
