"""The transfer ablation: none vs fixed vs finetune x layers moved x target-set size x seeds.

Usage:
    python bench/svd_ablation.py --init SPEECH_CKPT --runs DIR [--steps 400] [--seeds 0,1,2]
                                 [--sizes 1,3,8] [--layers 1,2,all] [--record docs/svd.md]

Every run trains a binary singing detector with the same budget on MIR-1K training
singers (a seeded random subset of the given size), picks its checkpoint on the
validation singers, and is scored on the held-out test singers (frames at 20 ms,
threshold 0.5, no post-processing: the model itself is measured). Runs are resumable:
a finished run leaves ``result.json`` in its folder and is not repeated, so the grid
can be grown over several sessions; the table shows mean ± std over the seeds done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import time
from pathlib import Path

import numpy as np

from _report import machine, markers, record
from cantata.detect.api import VoiceDetector
from cantata.train.config import TrainConfig
from cantata.train.recipes import TEST_SINGERS, VAL_SINGERS, SongData
from cantata.train.recipes.detect import SingingDetectorRecipe, Transfer
from cantata.train.tasks.detection import frame_scores
from cantata.types import Waveform
from svd_eval import mir1k_items

MARK_BEGIN, MARK_END = markers("svd_ablation")
ALL_TRAIN = ("amy", "ariel", "bug", "fdps", "jmzen", "stool", "tammy", "yifen")


def singers_for(size: int, seed: int) -> list[str]:
    """A seeded subset of the training singers (all of them for the full size)."""
    if size >= len(ALL_TRAIN):
        return list(ALL_TRAIN)
    return sorted(str(s) for s in np.random.default_rng(1000 + seed).choice(ALL_TRAIN, size,
                                                                              replace=False))


def grid(sizes: list[int], layers: list[str], seeds: list[int]) -> list[tuple[str, str, int, int]]:
    """(mode, layers, size, seed): smallest target sets first (where transfer matters most),
    all seeds of a cell together, so a partial run still fills whole cells."""
    configs = [("none", "0")] + [(m, k) for m in ("fixed", "finetune") for k in layers]
    return [(mode, k, size, seed) for size, (mode, k), seed in
            itertools.product(sorted(sizes), configs, seeds)]


def run_one(mode: str, layers: str, size: int, seed: int, *, init: str, mir1k: str,
            runs: Path, steps: int, test_items: list) -> dict:
    out = runs / f"{mode}-k{layers}-n{size}-s{seed}"
    done = out / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    start = time.perf_counter()
    train = TrainConfig(max_steps=steps, batch_size=16, eval_every=max(steps // 2, 1), patience=0,
                        seed=seed, num_workers=2, lr_schedule="cosine")
    recipe = SingingDetectorRecipe(
        task="binary", train=train,
        data=SongData(mir1k=mir1k, train_singers=tuple(singers_for(size, seed))),
        transfer=Transfer(init=init if mode != "none" else None, mode=mode,  # type: ignore[arg-type]
                          layers=int(layers) if layers.isdigit() else layers))  # type: ignore[arg-type]
    result = recipe.fit(out)
    detector = VoiceDetector.from_pretrained(result.best_path)
    counts = np.zeros(4)
    for _, mix, ref in test_items:
        pred = detector.frame_probs(Waveform(mix, 16000)).probs[0] > 0.5
        n = min(len(pred), len(ref))
        pred, ref_n = pred[:n], ref[:n]
        counts += [np.sum(pred & ref_n), np.sum(pred & ~ref_n), np.sum(~pred & ~ref_n),
                   np.sum(~pred & ref_n)]
    scores = {"mode": mode, "layers": layers, "size": size, "seed": seed,
              "singers": singers_for(size, seed), "val_balanced_accuracy": result.best_metric,
              "wall_s": round(time.perf_counter() - start, 1), **frame_scores(*counts)}
    done.write_text(json.dumps(scores))
    return scores


def table(results: list[dict], sizes: list[int], layers: list[str]) -> list[str]:
    rows = []
    configs = [("none", "0")] + [(m, k) for m in ("fixed", "finetune") for k in layers]
    for mode, k in configs:
        cells = []
        for size in sorted(sizes):
            vals = [r["balanced_accuracy"] for r in results
                    if (r["mode"], r["layers"], r["size"]) == (mode, k, size)]
            cells.append(f"{np.mean(vals):.3f} ± {np.std(vals):.3f} ({len(vals)})" if vals
                         else "not run")
        name = "none (from scratch)" if mode == "none" else f"{mode}, K = {k}"
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init", required=True, help="speech-detector checkpoint")
    parser.add_argument("--runs", type=Path, required=True, help="folder for the runs")
    parser.add_argument("--mir1k", default=str(Path(__file__).parents[2] / "shared" / "data" /
                                                "mir1k"))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sizes", default="1,3,8")
    parser.add_argument("--layers", default="1,2,all")
    parser.add_argument("--table-only", action="store_true",
                        help="train nothing: tabulate the runs already finished in --runs")
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    layers, seeds = args.layers.split(","), [int(s) for s in args.seeds.split(",")]
    results = []
    if args.table_only:
        results = [json.loads(p.read_text()) for p in sorted(args.runs.glob("*/result.json"))]
    else:
        test_items = mir1k_items(args.mir1k)
        for mode, k, size, seed in grid(sizes, layers, seeds):
            results.append(run_one(mode, k, size, seed, init=args.init, mir1k=args.mir1k,
                                   runs=args.runs, steps=args.steps, test_items=test_items))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "singers"}),
                  flush=True)
    section = "\n".join([
        MARK_BEGIN,
        f"### Transfer ablation ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/svd_ablation.py --steps {args.steps} --seeds {args.seeds} --sizes "
        f"{args.sizes} --layers {args.layers}`: balanced accuracy on the held-out MIR-1K "
        f"singers ({', '.join(TEST_SINGERS)}), frames at 20 ms, mean ± std over seeds (runs "
        f"done); checkpoints picked on {', '.join(VAL_SINGERS)}; every run "
        f"{args.steps} steps of 16 four-second mixes. Columns: number of training singers.",
        "",
        "| transfer | " + " | ".join(f"{s} singer{'s' if s > 1 else ''}" for s in sorted(sizes))
        + " |",
        "|---|" + "---:|" * len(sizes),
        *table(results, sizes, layers),
        MARK_END,
    ])
    print(section)
    if args.record:
        record(args.record, "svd_ablation", section)


if __name__ == "__main__":
    main()
