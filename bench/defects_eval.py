"""Defect detection scores of the classical peers (and a trained model) on a labelled set.

Usage:
    python bench/defects_eval.py DIR [--peers rules,essentia] [--model CKPT_OR_NAME
                                 [--model-only]] [--limit N] [--out results.json [--overwrite]]

DIR is a set made by ``cantata data synth defects`` (its ``manifest.jsonl``): the strong
labels are each record's ``meta.defects`` events (exact sample spans); a record with no defect
is clean material. For every detector, only the types it finds are scored:

- event-based precision / recall / F1 per type (onset collar 20 ms for clicks, 100 ms
  otherwise, offset within the collar or half the event; ``cantata.defects.metrics``),
- segment-based F1 on 1 s segments,
- song-level ROC-AUC (score: the highest event confidence, 0 without events; the model's
  verdict score) over the clean records and those with a defect of the detector's types,
- false alarms per hour on the clean records (no defect of any type),
- speed: audio seconds per wall second of detection (decoding timed apart).

Prints one JSON object; ``--out`` also writes it. Nothing is recorded in the docs: the
numbers depend on the set, which the caller names.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cantata.audio import load
from cantata.data.records import Example, read_manifest
from cantata.defects import metrics, peers, rules
from cantata.defects.rules import DefectEvent
from cantata.errors import CantataError
from cantata.files import check_overwrite, write_text_atomic
from cantata.types import Waveform

#: detector -> (types it finds, run(waveform) -> (events, song score))
Detector = tuple[tuple[str, ...], Callable[[Waveform], tuple[list[DefectEvent], float]]]


def reference(example: Example) -> list[DefectEvent]:
    """The strong labels of one record, in seconds."""
    return [DefectEvent(d["type"], float(e["start_s"]), float(e["end_s"]))
            for d in example.meta.get("defects", []) for e in d["events"]]


def with_score(events: list[DefectEvent]) -> tuple[list[DefectEvent], float]:
    return events, max((e.confidence for e in events), default=0.0)


def detectors(names: Sequence[str], model: str | None, *,
              model_only: bool = False) -> dict[str, Detector]:
    """The detectors asked for, by name; ``model_only`` adds the model with each type
    decided by the model alone (the best such decision of its calibration)."""
    found: dict[str, Detector] = {}
    if "rules" in names:
        found["rules"] = (tuple(rules.RULES), lambda w: with_score(rules.detect(w)))
    if "essentia" in names:
        found["essentia"] = (tuple(peers.ESSENTIA_TYPES.values()),
                             lambda w: with_score(peers.essentia_events(w)))
    if model is not None:
        from cantata.defects import DefectDetector  # torch: only when a model is scored

        net = DefectDetector.from_pretrained(model)
        found[f"model:{model}"] = (net.types, _runner(net))
        if model_only:
            found[f"model-only:{model}"] = (net.types, _runner(_model_only(net, model)))
    return found


def _runner(net: Any) -> Callable[[Waveform], tuple[list[DefectEvent], float]]:
    def run(w: Waveform) -> tuple[list[DefectEvent], float]:
        report = net.detect(w)
        return list(report.events), float(report.verdict.score)
    return run


def _model_only(net: Any, model: str) -> Any:
    """``net``'s model with the best model-alone decision of its calibration per type."""
    from cantata.capabilities import model_path
    from cantata.defects import DefectDetector
    from cantata.defects.decision import Decision
    from cantata.models.registry import load_checkpoint

    meta = load_checkpoint(model_path(model, "defects"))[1].meta
    chosen = meta.get("calibration", {}).get("model_only")
    if not chosen:
        raise CantataError(f"{model}: no calibration record; --model-only needs one")
    return DefectDetector(net.model, name=f"{net.name} (model only)",
                          decisions={t: Decision.from_dict(d) for t, d in chosen.items()})


def evaluate(examples: list[Example], found: dict[str, Detector]) -> dict[str, Any]:
    """Every detector over every record; the scores of each."""
    runs: dict[str, dict[str, list[Any]]] = {
        name: {"events": [], "segments": [], "labels": [], "scores": [], "clean": [],
               "clean_s": [], "seconds": []} for name in found}
    decode_s = audio_s = 0.0
    for example in examples:
        t0 = time.perf_counter()
        wave = load(example.audio)
        decode_s += time.perf_counter() - t0
        audio_s += wave.duration_s
        ref = reference(example)
        for name, (types, detect) in found.items():
            t0 = time.perf_counter()
            events, score = detect(wave)
            runs[name]["seconds"].append(time.perf_counter() - t0)
            _add(runs[name], ref, events, score, types, wave.duration_s)
    return {"records": len(examples), "audio_s": round(audio_s, 1),
            "decode_x_real_time": round(audio_s / max(decode_s, 1e-9), 1),
            "detectors": {name: _scores(runs[name], found[name][0], audio_s)
                          for name in found}}


def _add(run: dict[str, list[Any]], ref: list[DefectEvent], events: list[DefectEvent],
         score: float, types: tuple[str, ...], duration_s: float) -> None:
    """One record's counts; its song label and score unless its only defects are of types
    the detector does not find; its events as false alarms if it is clean."""
    ours = [e for e in ref if e.type in types]
    run["events"].append(metrics.event_counts(ours, events, types=types))
    run["segments"].append(metrics.segment_counts(ours, events, duration_s, types=types))
    if ours or not ref:
        run["labels"].append(bool(ours))
        run["scores"].append(score)
    if not ref:
        run["clean"].append(events)
        run["clean_s"].append(duration_s)


def _scores(run: dict[str, list[Any]], types: tuple[str, ...], audio_s: float
            ) -> dict[str, Any]:
    labels = run["labels"]
    auc = (metrics.roc_auc(labels, run["scores"]) if any(labels) and not all(labels)
           else None)
    false_alarms = (metrics.false_alarms_per_hour(run["clean"], run["clean_s"], types=types)
                    if run["clean_s"] else None)
    return {
        "types": list(types),
        "event": {t: c.to_dict() for t, c in metrics.total(run["events"]).items()},
        "segment": {t: c.to_dict() for t, c in metrics.total(run["segments"]).items()},
        "song_roc_auc": None if auc is None else round(auc, 4),
        "false_alarms_per_hour": None if false_alarms is None else {
            t: round(v, 2) for t, v in false_alarms.items()},
        "x_real_time": round(audio_s / max(sum(run["seconds"]), 1e-9), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="a `cantata data synth defects` set")
    parser.add_argument("--peers", default="rules,essentia",
                        help="comma-separated: rules, essentia (default both)")
    parser.add_argument("--model", help="a defect detector checkpoint or shipped name")
    parser.add_argument("--model-only", action="store_true",
                        help="also score the model deciding every type alone")
    parser.add_argument("--limit", type=int, help="score only the first N records")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    args = parser.parse_args(argv)
    if args.out:
        check_overwrite(args.out, args.overwrite)
    examples = list(read_manifest(args.dir))[:args.limit]
    result = evaluate(examples, detectors([p for p in args.peers.split(",") if p], args.model,
                                                 model_only=args.model_only))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        write_text_atomic(args.out, text + "\n", overwrite=args.overwrite)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CantataError as err:  # bad input: one line, no traceback
        print(f"defects_eval: {err}", file=sys.stderr)
        sys.exit(1)
