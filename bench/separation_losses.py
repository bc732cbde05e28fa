"""Which training loss (and mask) separates best? The same short run per variant, scored alike.

Usage:
    python bench/separation_losses.py [--variants l1,mse,mrstft,sisdr,l1+sisdr,l1+mrstft,
                                                  psm:l1+sisdr,cirm:l1+sisdr]
                                      [--steps 800] [--batch-size 8] [--clips 40]
                                      [--mir1k ../shared/data/mir1k] [--threads 1]
                                      [--record docs/separation.md]

A variant is a loss (``--loss`` of ``cantata train separator``) or ``MASK:LOSS`` with a
mask kind (``--mask``; irm otherwise). Each trains the default separator with ``cantata
train separator``'s recipe (MIR-1K's training singers over their own or another
accompaniment or a Debian soundtrack, 3 s mixes) from the same seed for the same steps;
then the run's last checkpoint is scored on the validation singers (the selection metric,
8 s windows) and on ``--clips`` clips of the held-out MIR-1K singers (0 dB mixes, BSS Eval
v4 medians and SI-SDR as in ``separation_eval.py``). Short runs rank variants by how fast
they learn, not where a long run ends.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _report import machine, markers, record
from cantata.train.config import TrainConfig
from cantata.train.recipes.separate import SeparatorData, SeparatorModel, SeparatorRecipe
from separation_eval import (
    COLUMNS,
    _cell,
    _limit_threads,
    _nanmedian,
    mir1k_items,
    model_system,
    score,
)

MARK_BEGIN, MARK_END = markers("separation_losses")
VARIANTS = ("l1", "mse", "mrstft", "sisdr", "l1+sisdr", "l1+mrstft", "psm:l1+sisdr",
            "cirm:l1+sisdr")


def run_variant(variant: str, out_dir: Path, mir1k: str, steps: int, batch_size: int,
                seed: int) -> tuple[Path, float, float]:
    """Train one ``[MASK:]LOSS``; (checkpoint, validation vocals SI-SDR, minutes)."""
    mask, _, loss = variant.rpartition(":")
    train = TrainConfig(max_steps=steps, batch_size=batch_size, eval_every=steps, patience=0,
                        seed=seed, lr_schedule="cosine")
    start = time.perf_counter()
    recipe = SeparatorRecipe(data=SeparatorData(mir1k=mir1k, instrumentals=("debian",)),
                             model=SeparatorModel(mask=mask or "irm"), loss=loss, train=train)
    result = recipe.fit(out_dir)
    minutes = (time.perf_counter() - start) / 60
    return result.best_path, float(result.history[-1]["metrics"]["val_si_sdr_vocals"]), minutes


def report(variants: list[str], mir1k: str, steps: int, batch_size: int, clips: int,
           seed: int, threads: int) -> str:
    items = mir1k_items(mir1k, clips)
    rows = []
    with tempfile.TemporaryDirectory(prefix="cantata-losses-") as tmp, _limit_threads(threads):
        for variant in variants:
            folder = Path(tmp) / variant.replace("+", "_").replace(":", "-")
            ckpt, val, minutes = run_variant(variant, folder, mir1k, steps, batch_size, seed)
            medians = _nanmedian(score(model_system(str(ckpt)), items)[0])
            print(f"{variant}: val {val:.2f}, test {np.round(medians, 2)}, {minutes:.1f} min",
                  file=sys.stderr)
            cells = [_cell(v) for v in medians]
            cells[1] = f"**{cells[1]}**"
            mask, _, loss = variant.rpartition(":")
            rows.append(f"| {mask or 'irm'} | `{loss}` | {minutes:.0f} | {val:.2f} | "
                        + " | ".join(cells) + " |")
    return "\n".join([
        MARK_BEGIN,
        f"### Training losses compared, dB ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/separation_losses.py --variants {','.join(variants)} --steps {steps} "
        f"--batch-size {batch_size} --clips {clips}`: the default separator trained "
        f"{steps} steps of {batch_size} three-second mixes (seed {seed}, cosine schedule, "
        f"{threads} torch thread{'s' if threads > 1 else ''}) once per mask and loss; "
        "validation: "
        "vocals SI-SDR on the validation singers' 8 s windows (the selection metric); test: "
        f"{len(items)} clips of the held-out MIR-1K singers, 0 dB mixes, scored as in "
        "`separation_eval.py`.",
        "",
        "| mask | loss | train min | val SI-SDR | test " + " | test ".join(COLUMNS) + " |",
        "|---|---|---:|---:|" + "---:|" * len(COLUMNS),
        *rows,
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated LOSS or MASK:LOSS (e.g. l1+sisdr,psm:l1+sisdr)")
    parser.add_argument("--mir1k", default=str(Path(__file__).parents[2] / "shared" / "data" /
                                               "mir1k"))
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--clips", type=int, default=40, help="held-out MIR-1K clips to score")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    table = report([s.strip() for s in args.variants.split(",") if s.strip()], args.mir1k,
                   args.steps, args.batch_size, args.clips, args.seed, args.threads)
    print(table)
    if args.record:
        record(args.record, "separation_losses", table)


if __name__ == "__main__":
    main()
