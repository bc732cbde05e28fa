"""Generated arrangements: a style, a chord progression, comping, bass, drums and a tune.

Each style fixes a meter, a tempo range, progressions (Roman numerals per bar) for
major and minor keys, and the rhythms and GM instruments its players may pick from.
A piece alternates two progressions (verse, chorus) in 4- or 8-bar sections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cantata.data.synth import instruments as gm
from cantata.data.synth.arrangement import Part, Sketch
from cantata.data.synth.grooves import Grid, bass_part, comp_part, drum_part
from cantata.data.synth.theory import Chord, ChordSpan, key_name, parse_roman
from cantata.data.synth.vocal import generate_melody

_POP_MINOR = (("i", "bVI", "bIII", "bVII"), ("i", "iv", "bVII", "bIII"),
              ("i", "bVI", "iv", "V"))
_BLUES = (("I7",) * 4 + ("IV7",) * 2 + ("I7",) * 2 + ("V7", "IV7", "I7", "V7"),
          ("I7", "IV7", "I7", "I7", "IV7", "IV7", "I7", "I7", "V7", "IV7", "I7", "V7"))


@dataclass(frozen=True)
class Style:
    """What a generated style may draw from; chords are Roman numerals, one per bar."""

    meter: str
    tempo: tuple[float, float]
    major: tuple[tuple[str, ...], ...]
    minor: tuple[tuple[str, ...], ...]
    comp: tuple[str, ...]
    comp_programs: tuple[int, ...]
    bass: tuple[str, ...]
    drums: tuple[str, ...]
    kits: tuple[str, ...]
    p_drums: float = 0.9
    p_pad: float = 0.4
    swing: bool = False


STYLES = {
    "pop": Style("4/4", (84, 128), (("I", "V", "vi", "IV"), ("vi", "IV", "I", "V"),
                                    ("I", "vi", "IV", "V"), ("I", "IV", "vi", "V")), _POP_MINOR,
                 ("quarters", "eighths", "push", "arpeggio", "halves"), gm.PIANOS + gm.GUITARS,
                 ("pop", "eighths", "halves", "octaves"),
                 ("pop", "backbeat", "disco", "halftime"),
                 ("standard", "room", "electronic", "tr-808")),
    "rock": Style("4/4", (100, 160), (("I", "bVII", "IV", "I"), ("I", "IV", "V", "IV"),
                                      ("I", "V", "vi", "IV"), ("I", "bIII", "IV", "I")),
                  (("i", "bVII", "bVI", "bVII"), ("i", "iv", "bVII", "i")),
                  ("eighths", "quarters", "push"), gm.ROCK_GUITARS + (18,),
                  ("eighths", "pop"), ("rock", "backbeat"), ("power", "standard", "room"),
                  p_drums=1.0, p_pad=0.2),
    "ballad": Style("4/4", (58, 84), (("I", "V", "vi", "iii", "IV", "I", "IV", "V"),
                                      ("I", "vi", "IV", "V"), ("I", "iii", "IV", "V")),
                    (("i", "bVI", "bIII", "bVII"), ("i", "iv", "bVI", "V")),
                    ("arpeggio", "sustain", "halves"), gm.PIANOS + (24, 25, 46),
                    ("whole", "halves"), ("ballad", "halftime"), ("standard", "brush", "room"),
                    p_drums=0.6, p_pad=0.6),
    "waltz": Style("3/4", (84, 160), (("I", "IV", "V", "I"), ("I", "vi", "ii", "V"),
                                      ("I", "I", "IV", "V")),
                   (("i", "iv", "V", "i"), ("i", "bVI", "iv", "V")),
                   ("waltz", "arpeggio", "quarters", "dotted"), gm.PIANOS + gm.GUITARS + (21, 46),
                   ("waltz", "waltz2", "dotted"), ("waltz", "waltz8"), ("brush", "jazz"),
                   p_drums=0.5),
    "latin": Style("4/4", (90, 140), (("ii7", "V7", "Imaj7", "Imaj7"), ("I", "IV", "V7", "IV"),
                                      ("Imaj7", "vi7", "ii7", "V7")),
                   (("i", "iv", "V7", "i"), ("i7", "iv7", "bVII7", "bIIImaj7")),
                   ("bossa", "charleston", "offbeats"), (24, 0, 4, 26, 11), ("bossa", "halves"),
                   ("bossa",), ("standard", "room", "jazz")),
    "blues": Style("4/4", (70, 130), _BLUES, (("i7",) * 4 + ("iv7",) * 2 + ("i7",) * 2
                                              + ("bVI7", "V7", "i7", "V7"),),
                   ("charleston", "quarters", "offbeats"), gm.PIANOS + gm.GUITARS + gm.ORGANS,
                   ("walking", "pop"), ("shuffle",), ("standard", "room", "jazz"), swing=True),
    "jazz": Style("4/4", (100, 170), (("ii7", "V7", "Imaj7", "vi7"), ("Imaj7", "vi7", "ii7", "V7"),
                                      ("iii7", "vi7", "ii7", "V7")),
                  (("i7", "iv7", "V7", "i7"),), ("charleston", "quarters"), (0, 1, 4, 26, 11),
                  ("walking",), ("jazz",), ("jazz", "brush"), swing=True),
    "folk": Style("6/8", (96, 150), (("I", "IV", "V", "I"), ("I", "V", "IV", "I"),
                                     ("I", "vi", "IV", "V")), (("i", "bVII", "i", "V"),),
                  ("pulse", "jig", "arpeggio", "eighths"), gm.GUITARS + gm.PIANOS + (21, 46, 105),
                  ("pulse", "jig"), ("sixeight", "sixeight-rock"), ("standard", "room", "brush"),
                  p_drums=0.6),
}
METER_FAMILY = {"2/4": "4", "4/4": "4", "2/2": "4", "3/4": "3", "6/8": "6"}


def bar_beats(meter: str) -> float:
    """Quarter beats per bar, e.g. 3.0 for ``"6/8"``."""
    num, den = (int(x) for x in meter.split("/"))
    return num * 4 / den


def progression_spans(rng: np.random.Generator, style: Style, *, tonic: int, mode: str,
                      grid: Grid, tempo_bpm: float) -> tuple[list[ChordSpan], list[list[str]]]:
    """Chords for the whole grid: a verse and a chorus progression in 4- or 8-bar sections.

    In short bars (under 1.6 s) each chord may last two bars.
    """
    pool = style.major if mode == "major" else style.minor
    chosen = [pool[int(i)] for i in rng.choice(len(pool), size=2)]
    stretch = 2 if grid.bar_beats * 60 / tempo_bpm < 1.6 and rng.random() < 0.5 else 1
    section_bars = max(8, len(chosen[0]) * stretch)
    spans = []
    for i, bar in enumerate(grid.bars()):
        progression = chosen[(i // section_bars) % 2]
        symbol = progression[(i // stretch) % len(progression)]
        chord = parse_roman(symbol, tonic)
        spans.append(ChordSpan(bar, bar + grid.bar_beats, chord))
    return spans, chosen


def players(rng: np.random.Generator, style: Style, spans: list[ChordSpan],
            grid: Grid) -> tuple[list[Part], dict]:
    """Comping instrument, maybe a pad, bass and maybe drums, with their choices."""
    program = gm.pick(rng, style.comp_programs)
    comp_pattern = str(rng.choice(style.comp))
    if program in gm.ROCK_GUITARS:  # distorted guitars play power chords
        spans = [ChordSpan(s.start, s.end, Chord(s.chord.root, "5")) for s in spans]
    parts = [comp_part(spans, grid, pattern=comp_pattern, role="comp", program=program,
                       register=(48, 72), velocity=float(rng.uniform(0.55, 0.75)), rng=rng)]
    choices = {"comp": comp_pattern}
    if rng.random() < style.p_pad:
        parts.append(comp_part(spans, grid, pattern="sustain", role="pad",
                               program=gm.pick(rng, gm.PADS), register=(55, 76),
                               velocity=float(rng.uniform(0.35, 0.55)), rng=rng))
    choices["bass"] = str(rng.choice(style.bass))
    parts.append(bass_part(spans, grid, pattern=choices["bass"], program=gm.pick(
        rng, gm.UPRIGHT_BASSES if choices["bass"] == "walking" else gm.BASSES), rng=rng))
    if rng.random() < style.p_drums:
        choices["drums"], kit = str(rng.choice(style.drums)), str(rng.choice(style.kits))
        choices["kit"] = kit
        parts.append(drum_part(grid, pattern=choices["drums"], kit=gm.DRUM_KITS[kit], rng=rng,
                               fill_every=int(rng.choice([4, 8]))))
    return parts, choices


def generated_sketch(rng: np.random.Generator, *, duration_s: float,
                     style: str | None) -> Sketch:
    """A generated song in ``style`` (random if None), at least ``duration_s`` long."""
    name = style or str(rng.choice(sorted(STYLES)))
    spec = STYLES[name]
    mode = "minor" if rng.random() < 0.3 else "major"
    tonic = int(rng.integers(12))
    tempo = float(rng.uniform(*spec.tempo))
    family = METER_FAMILY[spec.meter]
    end = duration_s * tempo / 60
    grid = Grid(0.0, bar_beats(spec.meter), family, end)
    spans, progressions = progression_spans(rng, spec, tonic=tonic, mode=mode, grid=grid,
                                           tempo_bpm=tempo)
    parts, choices = players(rng, spec, spans, grid)
    bars_in = int(rng.choice([0, 1, 1, 2]))  # an instrumental lead-in of at most 4 s
    while bars_in and (bars_in * grid.bar_beats * 60 / tempo > 4.0 or end < 4 * grid.bar_beats):
        bars_in -= 1
    lead_in = bars_in * grid.bar_beats
    melody = generate_melody(rng, spans=spans, grid=grid, tonic=tonic, mode=mode,
                             tempo_bpm=tempo, start=lead_in)
    meta = {"source": "generated", "style": name, "progressions": progressions, **choices}
    return Sketch(tempo, key_name(tonic, mode), spec.meter, parts, melody, meta,
                  swing=spec.swing)
