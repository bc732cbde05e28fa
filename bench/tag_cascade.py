"""A cascade against the flat head: precision at a fixed recall of the child tag.

Usage:
    python bench/tag_cascade.py FLAT_RUN CASCADE_RUN --test LABELS [--recall 0.8] [--record]

``FLAT_RUN`` is a tagger trained on every tag (``cantata train tag``), ``CASCADE_RUN`` the
child stage of a cascade (``--set cascade=parent:child``) trained on the same labels;
``LABELS`` a labels file of recordings neither trained on. The flat run scores the child
with its own head; the cascade scores it as the flat run's parent score times the child
net's (:func:`cantata.tag.postprocess.cascade_scores`). For each, the table gives the
child's ROC-AUC and its best precision at a recall of at least ``--recall``, over the test
recordings (all of them, and those with the parent tag). With the debug recipe's clips
(``cantata.data.synth.tag_clips``, cascade ``tone:high``)::

    cantata train tag --config configs/tag/debug.yaml --out runs/flat \\
        --set data.synth.clips=150 --set train.max_steps=300 ...
    cantata train tag --config configs/tag/debug.yaml --out runs/cascade \\
        --set cascade=tone:high (same settings)
    python -c "from cantata.data.synth.tag_clips import write_tag_clips; \\
        write_tag_clips('runs/test', clips=90, seed=1)"
    python bench/tag_cascade.py runs/flat runs/cascade --test runs/test/labels.csv

``--record`` writes the table into docs/tagging.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from _report import machine, markers, record
from cantata.errors import CantataError
from cantata.models.registry import load_checkpoint
from cantata.tag import Tagger
from cantata.tag.calibration import song_scores
from cantata.tag.labels import read_labels
from cantata.tag.postprocess import cascade_scores, precision_at_recall, roc_auc

DOC = Path(__file__).resolve().parents[1] / "docs" / "tagging.md"


def best(run: str) -> Path:
    path = Path(run)
    return path / "best.pt" if path.is_dir() else path


def figures(scores: np.ndarray, target: np.ndarray, recall: float) -> tuple[str, str]:
    auc, precision = roc_auc(scores, target), precision_at_recall(scores, target, recall)
    return (f"{auc:.3f}" if auc is not None else "n/a",
            f"{precision:.3f}" if precision is not None else "n/a")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("flat")
    p.add_argument("cascade")
    p.add_argument("--test", required=True, help="labels file of held-out recordings")
    p.add_argument("--recall", type=float, default=0.8)
    p.add_argument("--record", action="store_true", help="write the table into docs/tagging.md")
    args = p.parse_args(argv)
    try:
        _, checkpoint = load_checkpoint(best(args.cascade))
        stages = checkpoint.meta.get("cascade")
        if not stages:
            raise CantataError(f"{args.cascade}: not a cascade's child stage")
        parent, child = stages["parent"], stages["child"]
        flat, stage = Tagger.from_pretrained(best(args.flat)), Tagger.from_pretrained(
            best(args.cascade))
        missing = [t for t in (parent, child) if t not in flat.tags]
        if missing:
            raise CantataError(f"{args.flat}: no head for {', '.join(missing)}")
        test = read_labels(args.test, tags=flat.tags)
        flat_scores, targets = song_scores(flat, test.items)
        child_scores, _ = song_scores(stage, test.items)
    except CantataError as err:
        print(f"tag_cascade: {err}", file=sys.stderr)
        return 2
    i, j = flat.tags.index(parent), flat.tags.index(child)
    truth, within = targets[:, j], targets[:, i]
    rows = [("flat head", flat_scores[:, j]),
            ("cascade", cascade_scores(flat_scores[:, i], child_scores[:, 0]))]
    header = (f"| {child} scored by | ROC-AUC (all) | precision at recall "
              f"{args.recall:g} (all) | ROC-AUC ({parent} only) | precision ({parent} only) |")
    lines = [header, "|---|---:|---:|---:|---:|"]
    for name, scores in rows:
        everywhere = figures(scores, truth, args.recall)
        parents = figures(scores[within], truth[within], args.recall)
        lines.append(f"| {name} | {everywhere[0]} | {everywhere[1]} | {parents[0]} | "
                     f"{parents[1]} |")
    note = (f"{len(test.items)} test recordings ({int(truth.sum())} {child}, "
            f"{int(within.sum())} {parent}); {machine()}")
    table = "\n".join(lines)
    print(table + "\n\n" + note)
    if args.record:
        begin, end = markers("tag-cascade")
        record(DOC, "tag-cascade", f"{begin}\n{table}\n\n{note}\n{end}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
