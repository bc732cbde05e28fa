#!/usr/bin/env python3
"""Build the melody bank that ships with Cantata, from music21's bundled corpus.

Run once by a developer (parsing the corpus takes a few minutes); the result is
``src/cantata/data/synth/melodies/bank.json.gz``, which
:mod:`cantata.data.synth.melodies` loads at run time.

Two collections are read:

- the Bach chorales (``music21.corpus.chorales.Iterator``): four-part pieces; the
  soprano is the melody, alto / tenor / bass the harmony; fermatas mark phrase ends;
- a sample of the Essen folk-song collection (``essenFolksong/*.abc``): melodies only;
  each line of the ABC source is one phrase of the original EsAC encoding.

Times are stored in integer ticks of ``1 / TICKS`` quarter note, each voice as a flat
list ``[pitch, start, duration, pitch, start, duration, ...]``.

Usage: .venv/bin/python scripts/extract_melodies.py [--folk N] [--jobs J] [--out PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import re
from pathlib import Path

from music21 import converter, corpus, expressions, stream

TICKS = 24
OUT = Path(__file__).resolve().parents[1] / "src/cantata/data/synth/melodies/bank.json.gz"
METERS = {"2/4", "4/4", "2/2", "3/4", "6/8"}
MAX_RANGE = 17  # semitones: wider melodies do not fit a singer's range after transposition
LICENCES = {
    "bach-chorales": (
        "J. S. Bach chorale harmonisations (public-domain compositions); encodings from the "
        "music21 corpus (music21/corpus/license.txt: distributed with the permission of the "
        "encoders; some uses may be restricted)."),
    "essen-folksong": (
        "Essen Folksong Collection (EsAC, H. Schaffrath / E. Dahlig-Turek), ABC encoding by "
        "S. Schlien, from the music21 corpus: permission for NON-COMMERCIAL distribution and "
        "use (music21/corpus/essenFolksong/license.txt)."),
}
NOTE_TOKEN = re.compile(r"[_=^]*[A-Ga-gz][,']*")


def ticks(quarter_length: float) -> int:
    return round(float(quarter_length) * TICKS)


def voice_notes(part: stream.Stream) -> list[int]:
    """One part's notes as ``[pitch, start, duration, pitch, ...]`` in ticks.

    Ties are merged; grace notes and notes sharing an onset with the previous are left out.
    """
    flat: list[int] = []
    for n in part.stripTies().flatten().notes:
        if ticks(n.quarterLength) > 0 and (not flat or ticks(n.offset) > flat[-2]):
            flat += [max(p.midi for p in n.pitches), ticks(n.offset), ticks(n.quarterLength)]
    return flat


def first_downbeat(part: stream.Part) -> int:
    """Offset of the first full bar's downbeat (a pickup bar makes it positive), in ticks."""
    bar = part.getElementsByClass(stream.Measure).first()
    if bar is None or not bar.paddingLeft:
        return 0
    return ticks(bar.barDuration.quarterLength - bar.paddingLeft)


def meter_and_key(score: stream.Score) -> tuple[str, list] | None:
    signatures = score.recurse().getElementsByClass("TimeSignature")
    if len({ts.ratioString for ts in signatures}) != 1:
        return None
    key = score.analyze("key")
    return signatures[0].ratioString, [key.tonic.pitchClass, key.mode]


def chorale(path: str) -> dict | None:
    """One four-part Bach chorale, or None if it is not a plain SATB piece in a usual meter."""
    score = corpus.parse(path)
    parts = list(score.parts)
    info = meter_and_key(score)
    if len(parts) != 4 or info is None or info[0] not in METERS:
        return None
    soprano = parts[0].stripTies().flatten().notes
    phrase_ends = [ticks(n.offset + n.quarterLength) for n in soprano
                   if any(isinstance(e, expressions.Fermata) for e in n.expressions)]
    melody = voice_notes(parts[0])
    if len(phrase_ends) < 2 or max(melody[0::3]) - min(melody[0::3]) > MAX_RANGE:
        return None
    return {"id": path, "collection": "bach-chorales", "title": score.metadata.title or path,
            "meter": info[0], "key": info[1], "downbeat": first_downbeat(parts[0]),
            "phrase_ends": phrase_ends, "melody": melody,
            "harmony": [voice_notes(p) for p in parts[1:]]}


def abc_tunes(path: Path) -> dict[str, list[int]]:
    """Per tune number (``X:``), the number of note and rest tokens on each body line."""
    tunes: dict[str, list[int]] = {}
    number = None
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("X:"):
            number = line[2:].strip()
            tunes[number] = []
        elif number is not None and line.strip() and not re.match(r"^[A-Za-z]:", line):
            tunes[number].append(len(NOTE_TOKEN.findall(line)))
    return tunes


def folk_tune(score: stream.Score, line_counts: list[int], source: str) -> dict | None:
    """One Essen melody with phrases from its ABC lines, or None if unusable."""
    info = meter_and_key(score)
    if info is None or info[0] not in METERS or not line_counts:
        return None
    part = score.parts[0]
    events = list(part.flatten().notesAndRests)
    if len(events) != sum(line_counts):
        return None
    phrase_ends, i = [], 0
    for count in line_counts:
        sounding = [e for e in events[i:i + count] if not e.isRest]
        i += count
        if sounding:
            phrase_ends.append(ticks(sounding[-1].offset + sounding[-1].quarterLength))
    melody = voice_notes(part)
    pitches = melody[0::3]
    if len(phrase_ends) < 2 or not 12 <= len(pitches) <= 200 or max(pitches) - min(
            pitches) > MAX_RANGE:
        return None
    return {"id": source, "collection": "essen-folksong",
            "title": score.metadata.title or source, "meter": info[0], "key": info[1],
            "downbeat": first_downbeat(part), "phrase_ends": sorted(set(phrase_ends)),
            "melody": melody, "harmony": []}


def folk_file(path_str: str) -> list[dict]:
    """Every usable tune of one Essen ABC file."""
    path = Path(path_str)
    counts = abc_tunes(path)
    opus = converter.parse(path)
    pieces = []
    for score in opus.scores:
        number = str(score.metadata.number)
        source = f"essenFolksong/{path.stem}#{number}"
        try:
            piece = folk_tune(score, counts.get(number, []), source)
        except Exception as err:  # noqa: BLE001 - a bad tune is skipped, not fatal
            print(f"skip {source}: {err}")
            continue
        if piece is not None:
            pieces.append(piece)
    print(f"{path.name}: {len(pieces)} of {len(opus.scores)} tunes usable")
    return pieces


def sample_evenly(pieces: list[dict], n: int) -> list[dict]:
    if len(pieces) <= n:
        return pieces
    step = len(pieces) / n
    return [pieces[int(i * step)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folk", type=int, default=1000, help="Essen tunes to keep (0: none)")
    parser.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    names = list(corpus.chorales.Iterator(returnType="filename"))
    folk_paths = sorted(str(p) for p in corpus.getCorePaths()
                        if "essenFolksong" in str(p) and Path(p).stem[:4] not in {"test",
                                                                                  "vari"})
    with multiprocessing.Pool(args.jobs) as pool:
        chorales = [p for p in pool.map(chorale, names) if p is not None]
        folk = [] if args.folk == 0 else sum(pool.map(folk_file, folk_paths), [])
    folk = sample_evenly(folk, args.folk)
    bank = {"format": 1, "ticks_per_quarter": TICKS, "licences": LICENCES,
            "pieces": chorales + folk}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(bank, f, separators=(",", ":"))
    print(f"{len(chorales)} chorales + {len(folk)} folk tunes -> {args.out} "
          f"({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
