"""Tagged clips of simple sounds, labelled exactly: the tagger's debug and test material.

Each clip mixes one or more of a tone (``tone``; from 1.2 kHz up it is also ``high``, so
``high`` only occurs with ``tone``: a parent tag and its child, for cascades), white noise
(``noise``) and a train of decaying percussive bursts (``beat``). A folder of clips comes
with ``labels.csv`` (``path``, ``tags`` as ``a;b``, ``artist``: clips are grouped in
threes), the format ``cantata train tag`` reads.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import soundfile as sf

TAGS = ("tone", "high", "noise", "beat")
#: a tone at or above this is ``high``; tones span 200 Hz to 4 kHz, log-uniform on each side
HIGH_HZ = 1200.0


def clip(tags: set[str], seconds: float, sample_rate: int, rng: np.random.Generator
         ) -> np.ndarray:
    """One mono float32 clip holding the sounds of ``tags`` (``high`` needs ``tone``)."""
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    if "tone" in tags:
        low, high = (HIGH_HZ, 4000.0) if "high" in tags else (200.0, HIGH_HZ)
        freq = np.exp(rng.uniform(np.log(low), np.log(high)))  # no gap at the boundary
        out += 0.3 * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    if "noise" in tags:
        out += 0.1 * rng.standard_normal(n)
    if "beat" in tags:
        period = round(sample_rate * 60 / rng.uniform(90, 180))
        burst = rng.standard_normal(min(n, period)) * np.exp(-np.arange(min(n, period))
                                                              / (0.01 * sample_rate))
        for start in range(int(rng.integers(0, period)), n, period):
            end = min(n, start + len(burst))
            out[start:end] += 0.5 * burst[:end - start]
    return out.astype(np.float32)


def random_tags(rng: np.random.Generator) -> set[str]:
    """A random non-empty tag set (``high`` only with ``tone``)."""
    while True:
        tags = {t for t in ("tone", "noise", "beat") if rng.random() < 0.5}
        if tags:
            break
    if "tone" in tags and rng.random() < 0.5:
        tags.add("high")
    return tags


def write_tag_clips(out_dir: str | os.PathLike[str], *, clips: int, seconds: float = 3.0,
                    sample_rate: int = 16000, seed: int = 0) -> Path:
    """Write ``clips`` clips and their ``labels.csv`` into ``out_dir``; returns the labels
    file. The set is a function of its arguments; a folder already holding its labels file
    is kept as it is."""
    out = Path(out_dir)
    labels = out / "labels.csv"
    if labels.is_file():
        return labels
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(clips):
        tags = random_tags(rng)
        name = f"clip{i:04d}.wav"
        sf.write(out / name, clip(tags, seconds, sample_rate, rng), sample_rate)
        rows.append({"path": name, "tags": ";".join(t for t in TAGS if t in tags),
                     "artist": f"artist{i // 3}"})
    tmp = out / "labels.csv.tmp"
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "tags", "artist"])
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(labels)
    return labels
