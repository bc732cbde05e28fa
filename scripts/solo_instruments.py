"""Solo-instrument recordings with honest labels: Bach chorales played by one instrument.

Each recording is one chorale of the melody bank (:mod:`cantata.data.synth.melodies`)
played by one General MIDI instrument through FluidSynth: keyboards, guitar, harp and the
string ensemble play all four voices, the melodic instruments the soprano (the cello the
bass). Written as ``OUT/<split>/<nnnn>.flac`` with ``OUT/<split>.jsonl`` rows for
``scripts/tagger_corpus.py --solo``: ``path``, ``instrument``, ``chorale``. A chorale is
in one split only (one in five held out, by a hash of its name).

Usage::

    python scripts/solo_instruments.py --out /tmp/solo --clips 160 --seed 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from cantata.data.synth.arrangement import Arrangement, Track
from cantata.data.synth.melodies import load_bank
from cantata.data.synth.render import render_dry
from cantata.data.synth.score import Note

#: MagnaTagATune tag -> (General MIDI program, which voices play, octave shift)
INSTRUMENTS = {
    "piano": (0, "all", 0), "harpsichord": (6, "all", 0), "guitar": (24, "all", -12),
    "harp": (46, "all", 0), "strings": (48, "all", 0), "violin": (40, "soprano", 0),
    "flute": (73, "soprano", 12), "cello": (42, "bass", 0), "sitar": (104, "soprano", 0),
}
RATE = 22050
CLIP_S = 25.0


def held_out(source: str) -> bool:
    return int(hashlib.sha1(source.encode()).hexdigest(), 16) % 5 == 0


def voices(piece, which: str) -> list[np.ndarray]:
    if which == "soprano":
        return [piece.melody]
    if which == "bass":
        return [piece.harmony[-1]] if piece.harmony else [piece.melody - [12, 0, 0]]
    return [piece.melody, *piece.harmony]


def arrangement(piece, program: int, which: str, shift: int, tempo: float,
                rng: np.random.Generator) -> Arrangement:
    beat = 60.0 / tempo
    tracks = []
    for k, voice in enumerate(voices(piece, which)):
        notes = tuple(Note(float(p + shift), float(s * beat), float(max(d * beat, 0.05)),
                           float(rng.uniform(0.55, 0.9)))
                      for p, s, d in voice if s * beat < CLIP_S)
        tracks.append(Track(role=f"voice{k}", program=program, channel=k, notes=notes))
    return Arrangement(duration_s=CLIP_S, tempo_bpm=tempo, key="", time_signature="4/4",
                       tracks=tuple(tracks), melody=())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--clips", type=int, default=160)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    bank = load_bank()
    rows: dict[str, list[str]] = {"train": [], "test": []}
    names = list(INSTRUMENTS)
    for i in range(args.clips):
        piece = bank[int(rng.integers(len(bank)))]
        name = names[i % len(names)]
        program, which, shift = INSTRUMENTS[name]
        tempo = float(rng.uniform(60, 130))
        split = "test" if held_out(piece.source) else "train"
        path = args.out / split / f"{i:04d}.flac"
        if not path.exists():
            wav = render_dry(arrangement(piece, program, which, shift, tempo, rng),
                             sample_rate=RATE, soundfont=None)
            end = np.flatnonzero(np.abs(wav.samples).max(axis=0) > 1e-4)
            samples = wav.samples[:, : (end[-1] + RATE // 2) if len(end) else None]
            samples = samples / max(1e-6, float(np.abs(samples).max())) * 0.9
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, samples.T, RATE)
        rows[split].append(json.dumps({"path": str(path.resolve()), "instrument": name,
                                       "chorale": piece.source}))
    for split, lines in rows.items():
        (args.out / f"{split}.jsonl").write_text("".join(line + "\n" for line in lines))
        print(f"{split}: {len(lines)} recordings")


if __name__ == "__main__":
    main()
