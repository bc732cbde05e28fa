"""A tiny music library on disk for embedding tests: MIR-1K-shaped songs, instrumentals,
synthetic songs with a manifest; every track its own pitch, so tracks differ."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from cantata.data.records import Example, write_manifest

RATE = 16000
SINGERS = ("amy", "bob", "cat", "dan", "eve")


def tone(freq_hz: float, seconds: float, *, seed: int, amplitude: float = 0.3) -> np.ndarray:
    """A tone with a slow vibrato over a little noise, mono float32."""
    t = np.arange(round(seconds * RATE)) / RATE
    phase = 2 * np.pi * freq_hz * t + 3 * np.sin(2 * np.pi * 0.5 * t)
    noise = np.random.default_rng(seed).standard_normal(len(t))
    return (amplitude * np.sin(phase) + 0.02 * noise).astype(np.float32)


def write_music_library(root: str | Path, *, clip_s: float = 4.0,
                        instrumental_s: float = 13.0) -> dict[str, Path]:
    """Write the library under ``root``; returns ``{"mir1k", "instrumentals", "songs"}``.

    - ``mir1k/<singer>_1_0<k>/{vocals,accompaniment}.wav``: one song of two clips per
      singer of :data:`SINGERS`;
    - ``instrumentals/``: three tracks of ``instrumental_s`` and one 4 s one-shot;
    - ``songs/``: two songs with stems, mixture and ``manifest.jsonl``.
    """
    root = Path(root)
    paths = {name: root / name for name in ("mir1k", "instrumentals", "songs")}
    for i, singer in enumerate(SINGERS):
        for k in (1, 2):
            clip = paths["mir1k"] / f"{singer}_1_0{k}"
            clip.mkdir(parents=True)
            sf.write(clip / "vocals.wav", tone(300 + 70 * i, clip_s, seed=10 * i + k), RATE)
            sf.write(clip / "accompaniment.wav",
                     tone(110 + 20 * i, clip_s, seed=100 + 10 * i + k, amplitude=0.5), RATE)
    paths["instrumentals"].mkdir(parents=True)
    for i in range(3):
        sf.write(paths["instrumentals"] / f"theme{i}.wav",
                 tone(500 + 150 * i, instrumental_s, seed=200 + i), RATE)
    sf.write(paths["instrumentals"] / "sting.wav", tone(900, 4.0, seed=299), RATE)
    examples = []
    for i in range(2):
        folder = paths["songs"] / f"song-{i:06d}"
        folder.mkdir(parents=True)
        vocals, backing = tone(250 + 90 * i, 8.0, seed=300 + i), tone(
            150 + 30 * i, 8.0, seed=310 + i)
        for name, x in (("vocals", vocals), ("accompaniment", backing),
                        ("mixture", vocals + backing)):
            sf.write(folder / f"{name}.wav", x, RATE)
        examples.append(Example(
            id=folder.name, audio=str(folder / "mixture.wav"),
            stems={"vocals": str(folder / "vocals.wav"),
                   "accompaniment": str(folder / "accompaniment.wav")},
            duration_s=8.0, sample_rate=RATE, group=folder.name, source="synth-song"))
    write_manifest(paths["songs"] / "manifest.jsonl", examples)
    return paths
