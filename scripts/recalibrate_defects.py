"""Choose a trained defect detector's decisions again: the recipe's last stage, on its own.

Usage:
    python scripts/recalibrate_defects.py CKPT --out NEW.pt
        [--config configs/defects/defect-detector.yaml]

When the rules change (a new rule, a better one), every type's decision (the model, the
rules, the rules the model confirms, or the candidate verifier) is chosen again on the
validation clips of the recipe (``--config``: its data and its split by source track, as
the checkpoint was trained with them, and its ``data.clean`` clips), with
:func:`cantata.defects.calibration.calibrate_checkpoint`. The weights are copied unchanged.
``NEW.pt`` must not exist.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from cantata.defects.calibration import calibrate_checkpoint
from cantata.train.recipes import load_recipe

REPO = Path(__file__).resolve().parents[1]


def checkpoint_parser(description: str) -> argparse.ArgumentParser:
    """The arguments of a script that writes a new checkpoint from one: CKPT, --out, --config."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", type=Path,
                        default=REPO / "configs" / "defects" / "defect-detector.yaml")
    return parser


def parse_new_checkpoint(parser: argparse.ArgumentParser,
                         argv: list[str] | None) -> argparse.Namespace:
    """``parser``'s arguments; exits when ``--out`` exists (never overwritten)."""
    args = parser.parse_args(argv)
    if args.out.exists():
        sys.exit(f"{args.out}: already exists")
    return args


def print_decisions(calibration: dict, indent: str = "") -> None:
    """Each type's chosen decision and its validation F1 (tp/fp/fn)."""
    for name, chosen in calibration.get("types", {}).items():
        print(f"{indent}{name}: {chosen['source']} F1 {chosen['f1']} "
              f"({chosen['tp']}/{chosen['fp']}/{chosen['fn']})")


def main(argv: list[str] | None = None) -> int:
    args = parse_new_checkpoint(checkpoint_parser(__doc__.split("\n\n")[0]), argv)
    recipe = load_recipe(args.config, capability="defects")
    _, val_set = recipe.split(recipe.examples(list(recipe.data.clips)))
    shutil.copyfile(args.checkpoint, args.out)
    calibration = calibrate_checkpoint(args.out, recipe.calibration_clips(val_set),
                                       catalog_clean_share=recipe.catalog_clean_share)
    if calibration is None:
        args.out.unlink()
        sys.exit(f"{args.config}: no strongly labelled validation clip to calibrate on")
    print_decisions(calibration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
