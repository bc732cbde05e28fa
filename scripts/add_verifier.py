"""Give a trained defect detector a candidate verifier: the recipe's last two stages, on a
checkpoint trained without one.

Usage:
    python scripts/add_verifier.py CKPT --out NEW.pt [--config configs/defects/defect-detector.yaml]
        [--hidden 64]

The recipe (``--config``) gives the data and the split by source track, as the checkpoint
was trained with them: the verifier (``--hidden`` units) learns on the training clips'
candidates (``DefectDetectorRecipe.fit_verifier``, the recipe's ``verifier`` settings) and
every type's decision is calibrated again on the validation clips, ``verified`` among the
sources (:func:`cantata.defects.calibration.calibrate_checkpoint`). The CRNN's weights are
copied unchanged. ``NEW.pt`` must not exist.
"""

from __future__ import annotations

import dataclasses
import sys

from recalibrate_defects import checkpoint_parser, parse_new_checkpoint, print_decisions

from cantata.defects.calibration import calibrate_checkpoint
from cantata.models.registry import build, load_checkpoint, save_checkpoint
from cantata.train.recipes import load_recipe


def main(argv: list[str] | None = None) -> int:
    parser = checkpoint_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=64)
    args = parse_new_checkpoint(parser, argv)
    trained, checkpoint = load_checkpoint(args.checkpoint)
    config = dataclasses.replace(trained.config, verifier_hidden=args.hidden)
    model = build(checkpoint.name, config)
    missing, unexpected = model.load_state_dict(trained.state_dict(), strict=False)
    if unexpected or any(not key.startswith("verifier.") for key in missing):
        sys.exit(f"{args.checkpoint}: weights do not fit ({missing}, {unexpected})")
    meta = {**checkpoint.meta, "verifier_added_from": str(args.checkpoint)}
    save_checkpoint(args.out, model, name=checkpoint.name, config=config, meta=meta)
    recipe = load_recipe(args.config, capability="defects")
    fit_set, val_set = recipe.split(recipe.examples(list(recipe.data.clips)))
    record = recipe.fit_verifier(args.out, fit_set, val_set)
    calibration = calibrate_checkpoint(args.out, recipe.calibration_clips(val_set),
                                       catalog_clean_share=recipe.catalog_clean_share)
    print(f"{args.out}: verifier {record.get('val_metrics')}")
    print_decisions(calibration or {}, indent="  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
