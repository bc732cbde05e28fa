"""Ship a trained checkpoint: copy it into cantata/weights with its model card.

Usage:
    python scripts/ship_model.py RUN_DIR/best.pt --as singing|separator|embedder|...
        [--quality FILE.md] [--command "cantata train ..."] [--half] [--phase-steps N]

The weights land as ``src/cantata/weights/<stem>-<sha8>.pt`` (older files of the same
stem are removed) and the card as ``<stem>.md``: what the model is, the data, the
command, the training time, and its measured quality (validation metrics from the
checkpoint, plus any benchmark table given with ``--quality``). ``--half`` stores the
weights as float16 (half the bytes; measure the halved file, which is what ships).
``--phase-steps N`` sets a separator's consistency steps for the vocals' phase
(:mod:`cantata.separate.phase`), a setting of its output, not of its weights; the card
says that it was set at shipping.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import torch
import yaml

from cantata.capabilities import WEIGHTS_DIR, ShippedModel, capability_of_network, shipped_models
from cantata.models.registry import halve_checkpoint, load_checkpoint, read_checkpoint_payload
from cantata.train.lineage import stage

#: every shipped model of the capability registry, by name
SHIPPED = {model.name: model for _, model in shipped_models()}


def card(name: str, stem: str, ckpt_path: Path, command: str | None, quality: str) -> str:
    model, checkpoint = load_checkpoint(ckpt_path)
    meta, training = checkpoint.meta, checkpoint.meta.get("training", {})
    metrics = training.get("metrics", {})
    n_params = sum(p.numel() for p in model.parameters())
    size_kb = ckpt_path.stat().st_size / 1024
    stored = read_checkpoint_payload(ckpt_path)["state_dict"].values()
    half = " (weights stored as float16)" if any(t.dtype == torch.float16 for t in stored) else ""
    lines = [
        f"# `{name}` — {stem}",
        "",
        f"Registry name `{checkpoint.name}`, {n_params:,} parameters, {size_kb:.0f} kB{half}. "
        + (f"Labels: {', '.join(labels)}. " if (labels := _labels(meta)) else "")
        + f"Code version {meta.get('code_version')}.",
        "",
        "## Model",
        "",
        "```json",
        json.dumps(checkpoint.config),
        "```",
        "",
        f"Features: {json.dumps(meta.get('features'))}",
        "",
        "## Data",
        "",
        "```json",
        json.dumps(meta.get("data", {}), indent=2),
        "```",
    ]
    if meta.get("transfer"):
        lines += ["", f"Transfer: `{json.dumps(meta['transfer'])}`"]
    if meta.get("stems"):
        lines += ["", f"Stems: {', '.join(meta['stems'])}; mask `{meta.get('mask')}`, loss "
                      f"`{meta.get('loss')}`, {meta.get('channels')}-channel training mixes."]
    if meta.get("embedder"):
        lines += ["", f"Predicts the embeddings of `{meta['embedder']}` ({meta.get('segment_s')} s "
                      f"segments, back to back) from up to {meta.get('steps')} before."]
    if meta.get("system"):
        lines += ["", f"System `{meta['system']}`, "
                      + ("with" if meta.get("prior") else "without")
                      + f" the adversarial N(0, I) prior; {meta.get('segment_s')} s segments; "
                      f"DSSM similarity `{meta.get('similarity')}` (temperature "
                      f"{meta.get('temperature')}); learning-rate scales of the GAN phase: "
                      f"discriminator {meta.get('gan_lr_scale')}, generator "
                      f"{meta.get('generator_lr_scale')}."]
    lines += [
        "",
        "## Training",
        "",
        f"Command: `{meta.get('command') or command}`",
        "",
        *_recipe_line(name),
        _which_weights(meta, training)
        + f"; wall time {training.get('wall_s', 0) / 60:.1f} min on the project's 2-core CPU "
        "machine.",
        *_lineage(meta),
        *([] if meta.get("phase_steps_set") is None else [
            "", f"Set when shipping (`scripts/ship_model.py --phase-steps "
                f"{meta['phase_steps_set']}`, no training): {meta['phase_steps_set']} "
                "consistency step(s) for the vocals' phase (`cantata.separate.phase`); the "
                "weights above were trained without it."]),
        "",
        "## Quality",
        "",
        _validation_line(metrics, kind=capability_of_network(checkpoint.name).name,
                         n_pairs=meta.get("data", {}).get("val_pairs")) if metrics else
        "Validation: not measured on these weights (the mean of checkpoints, each scored on "
        "its own); see the test below.",
    ]
    labels = _labels(meta)
    if len(labels) > 1:
        lines += ["", "Per label (validation): " + "; ".join(
            f"{label}: balanced accuracy {metrics.get(f'balanced_accuracy/{label}', 0):.3f}, "
            f"F1 {metrics.get(f'f1/{label}', 0):.3f}, threshold "
            f"{metrics.get(f'threshold/{label}', 0.5):.2f}" for label in labels) + "."]
    lines += _decision_lines(meta) + _threshold_lines(meta)
    if quality:
        lines += ["", quality]
    return "\n".join(lines) + "\n"


def _labels(meta: dict) -> list[str]:
    """The output labels of a detector (a defect detector's ``labels`` says weak/strong)."""
    labels = meta.get("labels")
    return list(labels) if isinstance(labels, list) else []


def _decision_lines(meta: dict) -> list[str]:
    """A defect detector's per-type decisions and the validation events behind them."""
    calibration = meta.get("calibration")
    if not calibration or "types" not in calibration:
        return []
    lines = ["", f"Decisions per type, calibrated on {calibration['clips']} strongly labelled "
             f"validation clips (false events on clean clips weighted "
             f"{calibration.get('clean_weight', 1)}×, for a catalog "
             f"{calibration.get('catalog_clean_share', '?')} clean), with their validation "
             "event F1 (tp/fp/fn) and that of the model alone:", "",
             "| type | source | level | event F1 | the model alone |", "|---|---|---|---:|---:|"]
    for name, c in calibration["types"].items():
        level = {"model": f"threshold {c['threshold']}, shortest {c.get('min_event_s', 0)} s",
                 "confirmed": f"confirm {c['confirm']}",
                 "verified": f"verifier {c['confirm']}"}.get(c["source"], "—")
        alone = calibration.get("model_only", {}).get(name, {}).get("f1", float("nan"))
        lines.append(f"| {name} | {c['source']} | {level} | {c['f1']:.2f} "
                     f"({c['tp']}/{c['fp']}/{c['fn']}) | {alone:.2f} |")
    return lines


def _threshold_lines(meta: dict) -> list[str]:
    """A tagger's per-tag thresholds and what they reach on the validation recordings."""
    calibration = meta.get("calibration")
    if not calibration or "tags" not in calibration:
        return []
    lines = ["", f"Thresholds per tag, F1-optimal on {calibration['recordings']} validation "
             "recordings" + (f" (truth: the honest labels, else the teacher's song score >= "
                             f"{meta['teacher_decision']})" if "teacher_decision" in meta
                             else "") + ":", "",
             "| tag | threshold | F1 | precision | recall | ROC-AUC | positives |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for tag, c in calibration["tags"].items():
        auc = "—" if c["roc_auc"] is None else f"{c['roc_auc']:.3f}"
        lines.append(f"| {tag} | {c['threshold']:.3f} | {c['f1']:.2f} | {c['precision']:.2f} | "
                     f"{c['recall']:.2f} | {auc} | {c['positives']} |")
    return lines


def _recipe_line(name: str) -> list[str]:
    """The card's pointer to the shipped model's recipe file, then a blank line."""
    model = SHIPPED[name]
    return [f"Recipe: `{model.recipe}` (`cantata train {_capability(model)} --config "
            f"{model.recipe} --out RUN`)", ""]


def _which_weights(meta: dict, training: dict) -> str:
    """'Best checkpoint at step N of M', or what an averaged checkpoint is the mean of."""
    sources = meta.get("averaged_from")
    max_steps = training.get("train_config", {}).get("max_steps")
    if not sources:
        return f"Best checkpoint at step {training.get('step')} of {max_steps}"
    paths = " ".join(s.get("path", "?") for s in sources)
    if len({s.get("step") for s in sources}) < len(sources):  # checkpoints of several runs
        return (f"The mean of the weights of {len(sources)} checkpoints (`cantata train "
                f"average {paths} --out ...`), the last from the command above ({max_steps} "
                "steps)")
    return (f"The mean of the weights at steps {_steps(sources)} (`cantata train average "
            f"{paths} --out ...`) of {max_steps}")


def _steps(sources: list[dict]) -> str:
    """'1500, 1750, 2000': the steps of the checkpoints an average was made from."""
    return ", ".join(str(source.get("step")) for source in sources)


def _lineage(meta: dict) -> list[str]:
    """Lines naming the runs this one grew from (``--init``), oldest first: the lineage the
    checkpoint records, else (older checkpoints) the ``--init`` chain while it is on disk."""
    stages = meta.get("lineage")
    if stages is None:
        stages, init = [], meta.get("init")
        while init and Path(init).is_file() and len(stages) < 100:
            init_meta = read_checkpoint_payload(init)["meta"]
            stages.insert(0, stage(init_meta))
            init = init_meta.get("init")
        if init:
            stages.insert(0, {"init": init})
    if not stages:
        return []
    return ["", "Grown from earlier runs (each `--init` the next), oldest first:", "",
            *(f"{i}. {_stage_line(entry)}" for i, entry in enumerate(stages, 1))]


def _stage_line(entry: dict) -> str:
    if "init" in entry:
        return f"`{entry['init']}` (its history was not recorded and it is no longer on disk)"
    return (f"`{entry.get('command')}` — {entry.get('weights')}, "
            f"{(entry.get('wall_s') or 0) / 60:.1f} min")


def _validation_line(metrics: dict, *, kind: str, n_pairs: int | None = None) -> str:
    values = ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if "/" not in k)
    if kind == "continue":
        return ("Validation (the embedder's held-out tracks, 512 windows of 9 consecutive "
                "segments; the last prediction of each: val_mse = mean squared error per "
                "dimension, val_mse_repeat_last = the same for repeating the last embedding, "
                "val_next_mrr = the true next embedding's reciprocal rank among the window "
                f"batch's 32 next embeddings): {values}.")
    if kind == "embed":
        return (f"Validation (the checkpoint-selection set: {n_pairs} adjacent pairs of "
                "held-out tracks and singers; each reference ranks all validation positives; "
                "val_norm = mean |z| / sqrt(d), val_cov_dist = |Cov - I|_F / sqrt(d), "
                f"val_prior_acc = the prior discriminator's accuracy): {values}.")
    if kind == "separate":
        return ("Validation (the checkpoint-selection set: 0 dB mixes of the validation "
                f"singers in 8 s windows, medians, dB): {values}.")
    if kind == "restore":
        return ("Validation (the checkpoint-selection pairs, at strength 1: val_sisdri = mean "
                "SI-SDR improvement of the noisy pairs, val_clean_sisdr = median SI-SDR of the "
                f"clean pairs passed through, dB): {values}.")
    return ("Validation (the checkpoint-selection set; frames at 20 ms, at the decision "
            f"threshold calibrated on it, which inference applies): {values}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--as", dest="name", required=True, choices=sorted(SHIPPED))
    parser.add_argument("--quality", type=Path, help="markdown with measured quality to include")
    parser.add_argument("--command", help="the training command, if the checkpoint lacks it")
    parser.add_argument("--half", action="store_true", help="store the weights as float16")
    parser.add_argument("--phase-steps", type=int, metavar="N",
                        help="set a separator's consistency steps for the vocals' phase")
    parser.add_argument("--data", help="one line on the training data for `cantata models` "
                                       "(default: the current card's)")
    parser.add_argument("--headline", action="append", default=[], metavar="SET=FIGURES",
                        help="measured quality for `cantata models`, e.g. 'test=vocals SDR "
                             "10.0 dB'; repeatable (default: the current card's)")
    args = parser.parse_args()
    model = SHIPPED[args.name]
    network = read_checkpoint_payload(args.checkpoint)["name"]
    if capability_of_network(network).name != _capability(model):
        raise SystemExit(f"{args.checkpoint}: a {network!r} checkpoint cannot ship as "
                         f"{args.name!r} ({_capability(model)})")
    quality = args.quality.read_text() if args.quality else ""
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = halve_checkpoint(args.checkpoint, Path(tmp) / "half.pt") if args.half \
            else args.checkpoint
        if args.phase_steps is not None:
            checkpoint = with_phase_steps(checkpoint, args.phase_steps, Path(tmp) / "phase.pt")
        front = front_matter(model, checkpoint, args.data,
                             dict(h.split("=", 1) for h in args.headline))
        ship(checkpoint, model, front, args.command, quality)


def _capability(model: ShippedModel) -> str:
    return next(cap.name for cap, m in shipped_models() if m is model)


def front_matter(model: ShippedModel, checkpoint: Path, data: str | None,
                 headline: dict[str, str]) -> str:
    """The card's YAML front matter that `cantata models` reads; what is not given carries
    over from the current card."""
    old = model.card_facts() if model.card.is_file() else {}
    wall_s = read_checkpoint_payload(checkpoint)["meta"].get("training", {}).get("wall_s")
    facts = {"capability": _capability(model), "data": data or old.get("data", ""),
             "training_time_min": round(wall_s / 60, 1) if wall_s else
             old.get("training_time_min"),
             "quality": headline or old.get("quality", {})}
    return "---\n" + yaml.safe_dump(facts, sort_keys=False, allow_unicode=True) + "---\n\n"


def with_phase_steps(src: Path, steps: int, dest: Path) -> Path:
    """A copy of separator checkpoint ``src`` whose config has ``steps`` phase steps."""
    payload = read_checkpoint_payload(src)
    if payload["name"] != "separator" or steps < 0:
        raise SystemExit(f"{src}: --phase-steps needs a separator checkpoint and N >= 0")
    payload["config"] = {**payload["config"], "phase_steps": steps}
    payload["meta"] = {**payload["meta"], "phase_steps_set": steps}
    torch.save(payload, dest)
    load_checkpoint(dest)  # the config must still build
    return dest


def ship(checkpoint: Path, model: ShippedModel, front: str, command: str | None,
         quality: str) -> None:
    """Copy ``checkpoint`` into the weights folder under its hash and write its card."""
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:8]
    stem = model.stem
    # the card first: its lineage may run through the weights about to be replaced
    text = front + card(model.name, stem, checkpoint, command, quality)
    for old in WEIGHTS_DIR.glob(f"{stem}-*.pt"):
        old.unlink()
    WEIGHTS_DIR.mkdir(exist_ok=True)
    dest = WEIGHTS_DIR / f"{stem}-{digest}.pt"
    shutil.copyfile(checkpoint, dest)
    (WEIGHTS_DIR / f"{stem}.md").write_text(text)
    print(f"shipped {dest} and {stem}.md")


if __name__ == "__main__":
    main()
