"""The distilled tagger on held-out audio: agreement with its teacher, honest labels, speed.

Usage:
    python bench/tag_distill.py --labels data/tagger/test.jsonl [--model tagger]
        [--teacher-python /tmp/tfvenv/bin/python] [--speed-files 8] [--record]

``--labels``: the held-out labels file of ``scripts/tagger_corpus.py`` (rows with
``teacher`` files from ``scripts/musicnn_teacher.py``; none of its recordings, singers or
songs was heard in training). Tables:

1. *Agreement*: per tag, the ROC-AUC of the student's song scores against the teacher's
   decisions (its mean chunk score >= the checkpoint's ``teacher_decision``, else 0.5)
   where at least 3 recordings of each class exist, and the correlation of the two song
   scores (every tag);
2. *Vocal vs instrumental*: ROC-AUC of mixes against their own accompaniments (held-out
   MIR-1K singers; held-out synthetic songs), for the student's voice heads and the
   teacher's (its scores from the same files);
3. *Instruments*: how often a solo recording's instrument (``scripts/solo_instruments.py``,
   held-out chorales), and each instrument of a synthetic song, is among the top 5 tags
   (student and teacher), per instrument;
4. *Speed* (with ``--teacher-python``): student and teacher on the same files, decoding
   included, in one run.

``--record`` writes the tables into docs/tagging.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _report import machine, markers, record
from cantata import audio
from cantata.capabilities import capability, model_path
from cantata.errors import CantataError
from cantata.models.registry import load_checkpoint
from cantata.tag import Tagger
from cantata.tag.labels import TagItem, read_labels, read_teacher
from cantata.tag.postprocess import roc_auc

DOC = Path(__file__).resolve().parents[1] / "docs" / "tagging.md"
REPO = Path(__file__).resolve().parents[1]
VOICE_HEADS = ("vocal", "vocals", "singing", "voice")
NO_VOICE_HEADS = ("no vocals", "no vocal", "no voice")
INSTRUMENTS = ("piano", "guitar", "strings", "violin", "cello", "harp", "flute",
               "harpsichord", "sitar", "synth", "drums")
MIN_CLASS = 3


def kind(item: TagItem) -> str:
    """mir1k, songs, soundtrack, speech or demo, from the row's group."""
    return item.group.split("/")[0] if "/" in item.group else "other"


def agreement(student: np.ndarray, teacher: np.ndarray, tags: tuple[str, ...],
              decision: float) -> str:
    rows = ["| tag | teacher positives | ROC-AUC | correlation |", "|---|---:|---:|---:|"]
    aucs = []
    for j, tag in enumerate(tags):
        decided = teacher[:, j] >= decision
        positives = int(decided.sum())
        auc = (roc_auc(student[:, j], decided)
               if MIN_CLASS <= positives <= len(decided) - MIN_CLASS else None)
        corr = float(np.corrcoef(student[:, j], teacher[:, j])[0, 1])
        if auc is not None:
            aucs.append(auc)
        rows.append(f"| {tag} | {positives} | {'—' if auc is None else f'{auc:.3f}'} | "
                    f"{corr:.2f} |")
    corrs = [np.corrcoef(student[:, j], teacher[:, j])[0, 1] for j in range(len(tags))]
    rows.append(f"| **mean** | | **{np.mean(aucs):.3f}** ({len(aucs)} tags) | "
                f"**{np.nanmean(corrs):.2f}** |")
    return "\n".join(rows)


def voice_table(items: list[TagItem], student: np.ndarray, teacher: np.ndarray,
                tags: tuple[str, ...]) -> str:
    rows = ["| set | mixes | head | student ROC-AUC | teacher ROC-AUC |",
            "|---|---:|---|---:|---:|"]
    for name in ("mir1k", "songs"):
        keep = [i for i, item in enumerate(items) if kind(item) == name
                and ("vocal" in item.tags or "no vocal" in item.tags)]
        if not keep:
            continue
        sung = np.array(["vocal" in items[i].tags for i in keep])
        for head in (*VOICE_HEADS, *NO_VOICE_HEADS):
            j = tags.index(head)
            sign = -1 if head in NO_VOICE_HEADS else 1
            s = roc_auc(sign * student[keep, j], sung)
            t = roc_auc(sign * teacher[keep, j], sung)
            rows.append(f"| {name} | {int(sung.sum())} | {head}{' (negated)' if sign < 0 else ''}"
                        f" | {s:.3f} | {t:.3f} |")
    return "\n".join(rows)


def instrument_table(items: list[TagItem], student: np.ndarray, teacher: np.ndarray,
                     tags: tuple[str, ...], which: str) -> str:
    rows = [f"| instrument | {which} recordings | student: in top 5 | teacher: in top 5 | "
            f"student ROC-AUC |", "|---|---:|---:|---:|---:|"]
    keep = [i for i, item in enumerate(items) if kind(item) == which]
    top_s = {i: set(np.array(tags)[np.argsort(-student[i])[:5]]) for i in keep}
    top_t = {i: set(np.array(tags)[np.argsort(-teacher[i])[:5]]) for i in keep}
    hits_s, hits_t = [], []
    for name in INSTRUMENTS:
        having = [i for i in keep if name in items[i].tags]
        known = [i for i in keep if name in items[i].tags or name in items[i].absent]
        if not having:
            continue
        j = tags.index(name)
        auc = roc_auc(student[known, j], np.array([name in items[i].tags for i in known]))
        hits_s += [name in top_s[i] for i in having]
        hits_t += [name in top_t[i] for i in having]
        rows.append(f"| {name} | {len(having)} | {np.mean([name in top_s[i] for i in having]):.2f}"
                    f" | {np.mean([name in top_t[i] for i in having]):.2f} | "
                    f"{'—' if auc is None else f'{auc:.3f}'} |")
    rows.append(f"| **all** | {len(hits_s)} | **{np.mean(hits_s):.2f}** | "
                f"**{np.mean(hits_t):.2f}** | |")
    return "\n".join(rows)


def speed(tagger: Tagger, files: list[str], teacher_python: str | None) -> str:
    seconds = sum(audio.info(f).duration_s for f in files)
    tagger.tag(files[0])  # warm up
    start = time.perf_counter()
    for f in files:
        tagger.tag(f)
    student = time.perf_counter() - start
    rows = ["| model | files | audio | wall | × real time |", "|---|---:|---:|---:|---:|",
            f"| student ({tagger.name}) | {len(files)} | {seconds / 60:.1f} min | "
            f"{student:.1f} s | {seconds / student:.0f}× |"]
    if teacher_python:
        with tempfile.TemporaryDirectory() as tmp:
            labels = Path(tmp) / "speed.jsonl"
            labels.write_text("".join(json.dumps({"path": f, "teacher": f"{tmp}/{i}.npz"}) + "\n"
                                      for i, f in enumerate(files)))
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
            start = time.perf_counter()
            subprocess.run([teacher_python, str(REPO / "scripts" / "musicnn_teacher.py"),
                            str(labels), "--hop-frames", "187",
                            "--threads", str(torch.get_num_threads())],
                           check=True, env=env, capture_output=True)
            teacher = time.perf_counter() - start
        rows.append(f"| teacher (musicnn MTT_musicnn, one graph for all files) | {len(files)} |"
                    f" {seconds / 60:.1f} min | {teacher:.1f} s | {seconds / teacher:.0f}× |")
        rows.append(f"\nThe student is {teacher / student:.1f}× faster than the teacher.")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--labels", type=Path, required=True, help="held-out labels (JSONL)")
    p.add_argument("--model", default=None, help="a tagger name or checkpoint (default: "
                                                 "the shipped one)")
    p.add_argument("--teacher-python", help="the teacher environment's python, for speed")
    p.add_argument("--speed-files", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--record", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        tagger = Tagger.from_pretrained(args.model)
        decision = load_checkpoint(model_path(args.model or capability("tag").default_model,
                                              "tag"))[1].meta.get("teacher_decision", 0.5)
        items = read_labels(args.labels).items
        tags = tagger.tags
        student = np.stack([tagger.tag(item.audio).scores for item in items])
        teacher = np.stack([read_teacher(str(item.teacher)).targets(
            TagItem(item.audio, frozenset(), "", 0), tags).mean(axis=0) for item in items])
        long_files = sorted((item.audio for item in items if kind(item) == "instrumentals"),
                            key=lambda f: -audio.info(f).duration_s)[:args.speed_files]
        sections = {
            "tag-distill-agreement": agreement(student, teacher, tags, decision),
            "tag-distill-voice": voice_table(items, student, teacher, tags),
            "tag-distill-solo": instrument_table(items, student, teacher, tags, "solo"),
            "tag-distill-instruments": instrument_table(items, student, teacher, tags,
                                                        "songs"),
            "tag-distill-speed": speed(tagger, long_files, args.teacher_python),
        }
    except CantataError as err:
        print(f"tag_distill: {err}", file=sys.stderr)
        return 2
    hours = sum(audio.info(item.audio).duration_s for item in items) / 3600
    note = (f"{len(items)} held-out recordings ({hours:.2f} h) of {args.labels.name}; "
            f"student {tagger.name}; teacher's decision: song score >= {decision}; "
            f"{args.threads} threads; {machine()}")
    for name, table in sections.items():
        print(f"\n{name}\n{table}")
        if args.record:
            begin, end = markers(name)
            record(DOC, name, f"{begin}\n{table}\n\n{note}\n{end}")
    print("\n" + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
