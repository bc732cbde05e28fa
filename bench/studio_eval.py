"""Separation and singing detection on produced music: held-out produced-style sets and
the studio excerpt, each model paired per clip against the first.

Usage:
    python bench/studio_eval.py [--separators separator,RUN/best.pt] [--detectors singing,...]
                                [--mixes 30] [--songs 12] [--vocal-free 20] [--leads 12]
                                [--studio ../shared/data/studio/bearlin-roads]
                                [--record docs/separation.md --record docs/svd.md]

Sets (all 44.1 kHz stereo, made by ``bench/_produced.py``: code no training recipe runs):
  separation
    (f) produced-style mixes: held-out MIR-1K singers through a vocal chain (EQ,
        compression, chorus double, delay and reverb sends) 0..6 dB over held-out Debian
        soundtracks, mastered to -14..-8 LUFS, a third of them an AAC round trip;
    (g) the studio excerpt (``../shared/data/studio/bearlin-roads``: SiSec 2011, 14 s of a
        professionally produced song with its true vocal and accompaniment stems);
  detection
    (h) whole produced songs (80 s: a held-out singer's takes in verses between
        instrumental intro, breaks and outro), labels from the dry takes;
    (i) vocal-free produced music (held-out soundtracks mastered loud): false alarms;
    (j) synthetic leads no voice sang (square, sawtooth, whistle, a steady full-scale square
        wave), alone and over music: false alarms;
    (g) the studio excerpt, labels from its vocal stem.
Separation scores as ``bench/separation_eval.py`` (BSS Eval v4 SDR per 1 s window, median,
then median over clips; SI-SDR per clip); detection as ``bench/svd_eval.py`` (20 ms frames
pooled over a set, after post-processing).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np

import _produced as produced
from _report import machine, markers, record
from cantata import audio
from cantata.data.labels import stem_activity
from cantata.detect.api import VoiceDetector
from cantata.regions import segments_to_frames
from cantata.train.tasks.detection import frame_scores
from cantata.types import Waveform
from separation_eval import Item, median_interval, model_system, paired, score

MARK_BEGIN, MARK_END = markers("studio_eval")
SHARED = Path(__file__).parents[2] / "shared" / "data"


def studio_item(folder: Path) -> Item:
    stems = {k: audio.load(folder / f"{k}.flac").samples for k in ("vocals", "accompaniment")}
    v, a = stems["vocals"], stems["accompaniment"]
    return Item(folder.name, v + a, v, a, audio.info(folder / "vocals.flac").sample_rate)


def separation_rows(models: list[str],
                    sets: dict[str, list[Item]]) -> tuple[list[str], list[str]]:
    rows, pairs = [], []
    for set_name, items in sets.items():
        minutes = sum(i.mix.shape[1] / i.sample_rate for i in items) / 60
        per_model = {}
        for model in models:
            per_clip, sep_s, _ = score(model_system(model), items)
            per_model[model] = per_clip
            low, high = median_interval(per_clip[:, 0])
            interval = "–" if np.isnan(low) else f"{low:.1f}–{high:.1f}"
            rows.append(f"| {set_name} ({len(items)}, {minutes:.1f} min) | `{model}` | "
                        f"**{np.nanmedian(per_clip[:, 0]):.2f}** | {interval} | "
                        f"{np.nanmedian(per_clip[:, 1]):.2f} | "
                        f"{np.nanmedian(per_clip[:, 4]):.2f} | "
                        f"{sum(i.mix.shape[1] / i.sample_rate for i in items) / sep_s:.0f}× |")
        for other in models[1:]:
            if len(items) > 1:
                mean, se, better, *_ = paired(per_model[other], per_model[models[0]])
                pairs.append(f"| {set_name} | `{other}` | `{models[0]}` | {mean:+.2f} ± {se:.2f} "
                             f"| {better:.0%} |")
            else:
                diff = per_model[other][0, 0] - per_model[models[0]][0, 0]
                pairs.append(f"| {set_name} | `{other}` | `{models[0]}` | {diff:+.2f} | – |")
    return rows, pairs


def detect_frames(detector: VoiceDetector, mix: np.ndarray, n_frames: int) -> np.ndarray:
    label = detector.labels[0]
    regions = [r for r in detector.detect(Waveform(mix, produced.RATE)) if r.label == label]
    return segments_to_frames(regions, labels=[label], n_frames=n_frames,
                              hop_s=produced.HOP_S)[0]


def detection_rows(models: list[str], sets: dict[str, list[produced.Produced]]
                   ) -> tuple[list[str], list[str]]:
    rows, pairs = [], []
    detectors = {m: VoiceDetector.from_pretrained(m) for m in models}
    for set_name, items in sets.items():
        minutes = sum(i.mixture.shape[1] for i in items) / produced.RATE / 60
        per_song: dict[str, list[float]] = {}
        for model, detector in detectors.items():
            counts, song_bacc = np.zeros(4), []
            for item in items:
                ref = item.vocal_frames
                pred = detect_frames(detector, item.mixture, len(ref))
                c = np.array([np.sum(pred & ref), np.sum(pred & ~ref), np.sum(~pred & ~ref),
                              np.sum(~pred & ref)])
                counts += c
                song_bacc.append(frame_scores(*c)["balanced_accuracy"] if ref.any()
                                 else c[1] / max(c[1] + c[2], 1))
            per_song[model] = song_bacc
            s = frame_scores(*counts)
            false_alarm = counts[1] / max(counts[1] + counts[2], 1)
            if any(i.vocal_frames.any() for i in items):
                worst = min(song_bacc)
                rows.append(f"| {set_name} ({len(items)}, {minutes:.1f} min) | `{model}` | "
                            f"**{s['balanced_accuracy']:.3f}** | {s['recall']:.3f} | "
                            f"{100 * false_alarm:.1f} % | {worst:.2f} |")
            else:
                rows.append(f"| {set_name} ({len(items)}, {minutes:.1f} min) | `{model}` | – | "
                            f"– | **{100 * false_alarm:.1f} %** | – |")
        vocal = any(i.vocal_frames.any() for i in items)
        for other in models[1:]:
            diff = np.array(per_song[other]) - np.array(per_song[models[0]])
            if not vocal:
                diff = -diff  # a false-alarm rate: lower is better
            se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0.0
            pairs.append(f"| {set_name} | `{other}` | `{models[0]}` | "
                         f"{'balanced accuracy' if vocal else 'false alarms (lower)'} | "
                         f"{diff.mean():+.3f} ± {se:.3f} | "
                         f"{np.mean(diff > 0):.0%} better, {np.mean(diff < 0):.0%} worse |")
    return rows, pairs


def studio_detection_item(folder: Path) -> produced.Produced:
    vocals = audio.load(folder / "vocals.flac", sample_rate=produced.RATE)
    mix = audio.load(folder / "mixture.flac", sample_rate=produced.RATE).samples
    frames = produced._frames(stem_activity(vocals), mix.shape[1])
    return produced.Produced(folder.name, mix, None, None, frames)


def report(args: argparse.Namespace) -> str:
    separators = [m for m in args.separators.split(",") if m]
    detectors = [m for m in args.detectors.split(",") if m]
    studio = Path(args.studio)
    parts = [MARK_BEGIN, f"### Produced music ({dt.date.today()}, {machine()})", "",
             f"`python bench/studio_eval.py --separators {args.separators} --detectors "
             f"{args.detectors} --mixes {args.mixes} --songs {args.songs} --vocal-free "
             f"{args.vocal_free} --leads {args.leads}`: 44.1 kHz stereo sets made by "
             "`bench/_produced.py` (pedalboard's vocal chain and mix bus, FFmpeg AAC), code "
             "no training recipe runs; the studio excerpt is SiSec 2011's *Roads* by Bearlin "
             "(14 s, its true stems)."]
    if separators:
        sets = {"produced-style mixes": [
            Item(p.name, p.mixture, p.vocals, p.accompaniment, produced.RATE)
            for p in produced.produced_mixes(args.mir1k, args.mixes)]}
        if studio.is_dir():
            sets["studio excerpt"] = [studio_item(studio)]
        rows, pairs = separation_rows(separators, sets)
        parts += ["", "Separation (dB; vocals SDR median over clips with its 95 % bootstrap "
                  "interval, vocals SI-SDR, accompaniment SDR; speed in real time on one "
                  "thread):", "",
                  "| set (clips, length) | model | vocals SDR | 95 % interval | vocals SI-SDR "
                  "| acc. SDR | speed |", "|---|---|---:|---:|---:|---:|---:|", *rows]
        if pairs:
            parts += ["", "Paired per clip against the first model (vocals SDR, dB: mean "
                      "difference ± standard error, share of clips higher):", "",
                      "| set | model | against | mean difference | clips higher |",
                      "|---|---|---|---:|---:|", *pairs]
    if detectors:
        sets = {"whole produced songs": produced.produced_songs(args.mir1k, args.songs),
                "vocal-free produced music": produced.vocal_free_produced(args.vocal_free),
                "synthetic leads (no voice)": produced.synth_leads(args.leads)}
        if studio.is_dir():
            sets["studio excerpt"] = [studio_detection_item(studio)]
        rows, pairs = detection_rows(detectors, sets)
        parts += ["", "Singing detection (20 ms frames pooled over the set, after "
                  "post-processing; worst song: the lowest per-song balanced accuracy):", "",
                  "| set (items, length) | model | balanced accuracy | recall | false alarm "
                  "| worst song |", "|---|---|---:|---:|---:|---:|", *rows]
        if pairs:
            parts += ["", "Paired per item against the first model (mean change ± standard "
                      "error):", "", "| set | model | against | score | mean change | items |",
                      "|---|---|---|---|---:|---|", *pairs]
    parts.append(MARK_END)
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--separators", default="separator")
    parser.add_argument("--detectors", default="singing")
    parser.add_argument("--mir1k", default=str(SHARED / "mir1k"))
    parser.add_argument("--studio", default=str(SHARED / "studio" / "bearlin-roads"))
    parser.add_argument("--mixes", type=int, default=30)
    parser.add_argument("--songs", type=int, default=12)
    parser.add_argument("--vocal-free", type=int, default=20)
    parser.add_argument("--leads", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--record", action="append", default=[],
                        help="write the tables into this markdown file (repeatable)")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    section = report(args)
    print(section)
    for path in args.record:
        record(path, "studio_eval", section)


if __name__ == "__main__":
    main()
