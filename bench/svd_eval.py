"""Singing-voice detection quality at 20 ms frames, against an energy-threshold baseline.

Usage:
    python bench/svd_eval.py [--models singing,...] [--mir1k ../shared/data/mir1k]
                             [--songs N] [--instrumentals N] [--record docs/svd.md]

Sets:
  (a) held-out MIR-1K singers (recipes.TEST_SINGERS: never trained on, never used to
      pick a checkpoint), each clip mixed at 0 dB, labels from the clean vocal stem;
  (b) held-out synthetic songs (a fresh factory seed no model was trained on);
  (c) vocal-free instrumentals: the 40 longest Debian game-soundtrack tracks
      (``split_benchmark``: training recipes never see them, though they may see other
      tracks of the same games) and the shipped instrumental example: every frame called
      vocal is a false alarm;
  (d) sample-pack recordings (organ, flute, trumpet, strings, guitars, loops), an
      instrument mix no model trains on: false alarms too.
Scores are pooled over all frames of a set; the detector's regions (after
post-processing, as users get them) are turned back into frames.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from _report import machine, markers, record
from cantata import audio
from cantata.data.labels import stem_activity
from cantata.data.sources import load_instrumentals, load_mir1k, read_stems, split_benchmark
from cantata.data.sources.instrumentals import SAMPLE_PACKS
from cantata.data.synth.factory import FactoryConfig, synthesize
from cantata.detect.api import VoiceDetector
from cantata.errors import ConfigError
from cantata.regions import segments_to_frames
from cantata.train.recipes import TEST_SINGERS
from cantata.train.tasks.detection import frame_scores, mix_at_0db
from cantata.types import Segment, Waveform

MARK_BEGIN, MARK_END = markers("svd_eval")
RATE, HOP_S = 16000, 0.02
EXCERPT_S = 30.0

# (name, mixture (time,), reference vocal frames (frames,) or None for vocal-free)
Item = tuple[str, np.ndarray, np.ndarray]


def mir1k_items(root: str) -> list[Item]:
    items = []
    for ex in load_mir1k(root):
        if ex.group in TEST_SINGERS:
            stems = {k: v.to_mono() for k, v in read_stems(ex, sample_rate=RATE).items()}
            mix = mix_at_0db(stems["vocals"], stems["accompaniment"])
            items.append((ex.id, mix, _frames(stem_activity(stems["vocals"]), len(mix))))
    return items


def song_items(n: int, folder: Path) -> list[Item]:
    synthesize("song", hours=n * 30 / 3600, out_dir=folder, jobs=2, seed=9999,
               config=FactoryConfig(sample_rate=RATE))
    items = []
    for ex_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        mix = audio.load(ex_dir / "mixture.flac", sample_rate=RATE, mono=True).samples[0]
        vocals = audio.load(ex_dir / "vocals.flac", sample_rate=RATE, mono=True)
        items.append((ex_dir.name, mix, _frames(stem_activity(vocals), len(mix))))
    return items


def instrumental_items(n: int, example: Path) -> list[Item]:
    """Middle excerpts of the longest vocal-free tracks, one per track, plus the example."""
    try:
        _, tracks = split_benchmark(load_instrumentals(), n)
    except ConfigError:  # the Debian music packages are optional: the example alone then
        tracks = []
    items = []
    for path, length in [(Path(ex.audio), ex.duration_s) for ex in tracks] + [(example, 0.0)]:
        offset = max(0.0, (length - EXCERPT_S) / 2)
        mix = audio.load(path, sample_rate=RATE, mono=True, offset_s=offset,
                         duration_s=EXCERPT_S).samples[0]
        items.append((path.name, mix, np.zeros(1 + len(mix) // 320, bool)))
    return items


def sample_pack_items(min_s: float = 3.0) -> list[Item]:
    """Whole sample-pack recordings of at least ``min_s`` (organ, flute, trumpet, strings,
    guitars, loops): instruments no detector hears in training (sample packs are left out
    of ``--instrumentals debian``), a harder false-alarm test than the game soundtracks."""
    try:
        packs = [ex for ex in load_instrumentals()
                 if ex.group in SAMPLE_PACKS and ex.duration_s >= min_s]
    except ConfigError:
        return []
    return [(ex.id, mix, np.zeros(1 + len(mix) // 320, bool)) for ex in packs
            for mix in [audio.load(ex.audio, sample_rate=RATE, mono=True).samples[0]]]


def _frames(active: np.ndarray, n_samples: int) -> np.ndarray:
    """Align a 10 ms activity track to 20 ms detector frames (frame i centred on i*20 ms)."""
    n = 1 + n_samples // 320
    return active[np.minimum(np.arange(n) * 2, len(active) - 1)]


def detector_system(name: str) -> Callable[[np.ndarray], np.ndarray]:
    detector = VoiceDetector.from_pretrained(name)

    def run(mix: np.ndarray) -> np.ndarray:  # the first label: "vocal", or "speech" zero-shot
        label = detector.labels[0]
        regions = [r for r in detector.detect(Waveform(mix, RATE)) if r.label == label]
        return _regions_to_frames(regions, len(mix), label)

    return run


def energy_baseline(mix: np.ndarray) -> np.ndarray:
    """Vocal wherever the mixture is loud: the labeller itself, run on the mixture."""
    return _frames(stem_activity(Waveform(mix, RATE)), len(mix))


def _regions_to_frames(regions: list[Segment], n_samples: int, label: str) -> np.ndarray:
    n = 1 + n_samples // 320
    return segments_to_frames(regions, labels=[label], n_frames=n, hop_s=HOP_S)[0]


def score(system: Callable[[np.ndarray], np.ndarray], items: list[Item]) -> dict[str, float]:
    counts = np.zeros(4)
    start = time.perf_counter()
    for _, mix, ref in items:
        pred = system(mix)[: len(ref)]
        ref = ref[: len(pred)]
        counts += [np.sum(pred & ref), np.sum(pred & ~ref), np.sum(~pred & ~ref),
                   np.sum(~pred & ref)]
    scores = frame_scores(*counts)
    scores["false_alarm"] = counts[1] / max(counts[1] + counts[2], 1)
    scores["seconds"] = time.perf_counter() - start
    return scores


def report(models: list[str], mir1k: str, n_songs: int, n_instrumentals: int) -> str:
    with tempfile.TemporaryDirectory(prefix="cantata-svd-") as tmp:
        sets = {"MIR-1K held-out singers": mir1k_items(mir1k),
                "synthetic songs (held out)": song_items(n_songs, Path(tmp)),
                "vocal-free instrumentals": instrumental_items(
                    n_instrumentals, Path(__file__).parents[1] / "examples" /
                    "kevin-macleod-vibe-ace-20s.ogg"),
                "sample-pack recordings": sample_pack_items()}
    systems = {"energy threshold (baseline)": energy_baseline}
    systems.update({f"`{m}`": detector_system(m) for m in models})
    rows = []
    for set_name, items in sets.items():
        hours = sum(len(m) for _, m, _ in items) / RATE / 3600
        for sys_name, system in systems.items():
            s = score(system, items)
            if not any(ref.any() for _, _, ref in items):  # vocal-free: false alarms only
                rows.append(f"| {set_name} ({len(items)}, {hours * 60:.0f} min) | {sys_name} | "
                            f"– | – | – | – | – | **{100 * s['false_alarm']:.1f} %** |")
            else:
                rows.append(f"| {set_name} ({len(items)}, {hours * 60:.0f} min) | {sys_name} | "
                            f"{s['accuracy']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} | "
                            f"{s['f1']:.3f} | **{s['balanced_accuracy']:.3f}** | "
                            f"{100 * s['false_alarm']:.1f} % |")
    return "\n".join([
        MARK_BEGIN,
        f"### Frame scores at 20 ms ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/svd_eval.py --models {','.join(models)} --songs {n_songs} "
        f"--instrumentals {n_instrumentals}`. Held-out MIR-1K singers: "
        f"{', '.join(TEST_SINGERS)} (0 dB mixes; labels from the clean vocal stem). "
        "False alarm = share of non-vocal frames called vocal.",
        "",
        "| set (clips, length) | system | accuracy | precision | recall | F1 | "
        "balanced accuracy | false alarm |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="singing")
    parser.add_argument("--mir1k", default=str(Path(__file__).parents[2] / "shared" / "data" /
                                                "mir1k"))
    parser.add_argument("--songs", type=int, default=20)
    parser.add_argument("--instrumentals", type=int, default=40)
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    section = report(args.models.split(","), args.mir1k, args.songs, args.instrumentals)
    print(section)
    if args.record:
        record(args.record, "svd_eval", section)


if __name__ == "__main__":
    main()
