"""Arrangements from the melody bank: a chorale or folk tune, re-timed, re-keyed, looped.

The tune is moved into a singer's range (which sets the key) and played at a random
tempo. At each phrase end the singer breathes: the phrase's last note is shortened and
the accompaniment may hold its chord a little longer (beats are inserted), so phrases
are separated by 0.5-3 s rests. Chorales keep their own alto, tenor and bass voices on
random instruments, maybe doubled by a bass and joined by drums; folk tunes are
harmonised here and accompanied like a generated style. Times are in beats.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cantata.data.synth import instruments as gm
from cantata.data.synth.arrangement import Event, Part, Sketch
from cantata.data.synth.grooves import Grid, drum_part
from cantata.data.synth.melodies import BankPiece, load_bank
from cantata.data.synth.songwriter import METER_FAMILY, STYLES, bar_beats, players
from cantata.data.synth.theory import DIATONIC, ChordSpan, key_name, parse_roman
from cantata.data.synth.vocal import HIGHEST, LOWEST

TEMPO = {"2/4": (76, 126), "4/4": (66, 112), "2/2": (110, 160), "3/4": (84, 150),
         "6/8": (100, 160)}
CHORALE_TEMPO = (60, 96)
P_CHORALE = 0.5
FOLK_STYLES = {"4": ("pop", "ballad", "rock", "latin"), "3": ("waltz",), "6": ("folk",)}
_PRIOR = (0.3, 0.0, -0.2, 0.2, 0.25, 0.05)  # I ii iii IV V vi (and the minor equivalents)


def transposition(rng: np.random.Generator, melody: np.ndarray) -> int:
    """A random shift (semitones) that puts the melody inside MIDI 52..76."""
    low, high = melody[:, 0].min(), melody[:, 0].max()
    shifts = np.arange(LOWEST - low, HIGHEST - high + 1)
    return int(rng.choice(shifts)) if len(shifts) else int(round((LOWEST + HIGHEST - low - high)
                                                                 / 2))


def breaths(piece: BankPiece, *, spb: float, bar: float, whole_bars: bool,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[float, float]]:
    """Where to breathe: phrase ends, beats inserted there, and shortening per note end.

    Args:
        spb: seconds per beat.
        bar: beats per bar; with ``whole_bars``, inserts are 0 or one bar (keeps the meter).

    Returns:
        (points (k,), inserted beats (k,), {phrase end: beats cut off the last note}).
    """
    starts, ends = piece.melody[:, 1], piece.melody[:, 1] + piece.melody[:, 2]
    inserts, shorten = [], {}
    for p in piece.phrase_ends:
        later = starts[starts >= p - 1e-6]
        rest = float(later[0] - p) if len(later) else 0.0  # the last phrase loops at once
        last = piece.melody[np.argmin(np.abs(ends - p)), 2]
        need = rng.uniform(0.6, 2.5) / spb - rest
        if whole_bars:
            ins = bar if need > bar / 2 and (bar + rest) * spb <= 3.0 else 0.0
        else:
            ins = float(np.clip(np.round(need * 2) / 2, 0.0, 3.0 / spb - rest))
        cut = float(np.clip(need - ins, 0.0, 0.5 * last))
        if (rest + ins + cut) * spb < 0.5:
            cut = float(min(0.7 * last, 0.5 / spb - rest - ins))
        inserts.append(max(ins, 0.0))
        shorten[p] = max(cut, 0.0)
    return np.asarray(piece.phrase_ends), np.asarray(inserts), shorten


def warp(t: np.ndarray, points: np.ndarray, inserts: np.ndarray, *, hold: bool) -> np.ndarray:
    """Shift times by the beats inserted before them; ``hold``: an end at a point holds on."""
    cum = np.concatenate([[0.0], np.cumsum(inserts)])
    return t + cum[np.searchsorted(points, t + (1e-6 if hold else -1e-6), side="right")]


def voice_events(notes: np.ndarray, *, points: np.ndarray, inserts: np.ndarray,
                 shorten: dict[float, float] | None, velocity: float) -> list[Event]:
    """A voice (notes, 3) as events on the warped time line; melody ends breathe."""
    starts, ends = notes[:, 1], notes[:, 1] + notes[:, 2]
    if shorten is not None:
        ends = ends - np.array([next((c for p, c in shorten.items() if abs(p - e) < 1e-6), 0.0)
                                for e in ends])
    ws = warp(starts, points, inserts, hold=True)
    we = warp(ends, points, inserts, hold=shorten is None)
    return [(float(s), float(e - s), int(p), velocity)
            for s, e, p in zip(ws, we, notes[:, 0], strict=True) if e - s > 0.05]


def harmonise(piece: BankPiece, *, tonic: int, shift: int, seg: float,
              rng: np.random.Generator) -> list[ChordSpan]:
    """Diatonic chords for a melody, one per ``seg`` beats: most melody time on chord tones."""
    chords = [parse_roman(s, tonic) for s in DIATONIC[piece.mode]]
    melody = piece.melody
    first = piece.downbeat - np.ceil(piece.downbeat / seg) * seg
    spans: list[ChordSpan] = []
    for t0 in np.arange(first, piece.length, seg):
        a = np.clip(melody[:, 1], t0, t0 + seg)
        b = np.clip(melody[:, 1] + melody[:, 2], t0, t0 + seg)
        weight = np.zeros(12)  # beats of melody per pitch class in this segment
        np.add.at(weight, (melody[:, 0].astype(int) + shift) % 12, b - a)
        on_chord = np.array([weight[list(c.pitch_classes)].sum() for c in chords])
        scores = on_chord - 0.6 * (weight.sum() - on_chord) + seg * np.array(_PRIOR)
        if t0 + seg >= piece.length:
            scores[0] += seg  # end on the tonic
        best = chords[int(np.argmax(np.array(scores) + rng.normal(0, 0.05, len(scores))))]
        if spans and spans[-1].chord == best:
            spans[-1] = ChordSpan(spans[-1].start, float(t0 + seg), best)
        else:
            spans.append(ChordSpan(float(t0), float(t0 + seg), best))
    return spans


def phrase_starts(melody: Sequence[Event], *, min_rest: float) -> list[float]:
    """Onsets of melody notes that follow a rest of at least ``min_rest`` beats (and the first)."""
    return [e[0] for i, e in enumerate(melody)
            if i == 0 or e[0] - (melody[i - 1][0] + melody[i - 1][1]) >= min_rest]


@dataclass(frozen=True)
class Timeline:
    """How the piece's beats map to the sketch's: breaths, looping, and the start offset.

    Attributes:
        points: phrase ends where beats are inserted; ``inserts``: how many.
        period: beats from one repetition of the piece to the next.
        offset: piece beat (after breaths) at which the sketch starts.
        end: length of the sketch in beats.
    """

    points: np.ndarray
    inserts: np.ndarray
    period: float
    offset: float
    end: float

    def loop(self, events: Sequence[Event]) -> list[Event]:
        """Events repeated every period, shifted to start at ``offset``, inside the sketch.

        A note already sounding at the start is kept from 0 on.
        """
        copies = int(np.ceil((self.offset + self.end) / self.period)) + 1
        shifted = ((s + k * self.period - self.offset, d, p, v) for k in range(copies)
                   for s, d, p, v in events)
        return [(max(s, 0.0), s + d - max(s, 0.0), p, v) for s, d, p, v in shifted
                if s + d > 0.05 and s < self.end]

    def loop_spans(self, spans: Sequence[ChordSpan]) -> list[ChordSpan]:
        """Chord spans of the piece on the sketch's time line (the first one from 0)."""
        starts = warp(np.array([s.start for s in spans]), self.points, self.inserts, hold=True)
        copies = int(np.ceil((self.offset + self.end) / self.period)) + 1
        timed = sorted((float(t + k * self.period - self.offset), i) for k in range(copies)
                       for i, t in enumerate(starts))
        first = max([j for j, (t, _) in enumerate(timed) if t <= 0] or [0])
        kept = [(max(t, 0.0), i) for t, i in timed[first:] if t < self.end]
        ends = [t for t, _ in kept[1:]] + [self.end]
        return [ChordSpan(t, e, spans[i].chord) for (t, i), e in zip(kept, ends, strict=True)
                if e > t]


def chorale_parts(rng: np.random.Generator, piece: BankPiece, *, shift: int,
                  timeline: Timeline) -> tuple[list[Part], dict]:
    """Alto, tenor and bass on one random ensemble's instruments, maybe a doubling bass."""
    ensemble = str(rng.choice(sorted(gm.ENSEMBLES)))
    programs = gm.ENSEMBLES[ensemble]
    shared = gm.pick(rng, programs[0]) if len(set(programs)) == 1 else None
    parts = []
    for role, notes, choices in zip(("alto", "tenor", "bass"), piece.harmony, programs,
                                    strict=False):
        events = voice_events(notes + [shift, 0, 0], points=timeline.points,
                              inserts=timeline.inserts, shorten=None,
                              velocity=float(rng.uniform(0.55, 0.8)))
        program = shared if shared is not None else gm.pick(rng, choices)
        parts.append(Part(role, program, timeline.loop(events),
                          volume=float(rng.uniform(0.65, 0.85))))
    if len(parts) == 3 and parts[2].events and rng.random() < 0.4:
        down = 12 if min(e[2] for e in parts[2].events) - 12 >= 28 else 0
        parts.append(Part("bass double", gm.pick(rng, gm.BASSES + (43,)),
                          [(s, d, p - down, 0.75) for s, d, p, _ in parts[2].events],
                          volume=float(rng.uniform(0.6, 0.8))))
    return parts, {"ensemble": ensemble}


def folk_parts(rng: np.random.Generator, piece: BankPiece, *, tonic: int, shift: int,
               timeline: Timeline, grid: Grid) -> tuple[list[Part], dict]:
    """A folk tune's accompaniment: harmonised, then played in a style that fits its meter."""
    style = str(rng.choice(FOLK_STYLES[grid.family]))
    seg = grid.bar_beats / 2 if grid.bar_beats == 4 and rng.random() < 0.5 else grid.bar_beats
    spans = timeline.loop_spans(harmonise(piece, tonic=tonic, shift=shift, seg=seg, rng=rng))
    parts, choices = players(rng, STYLES[style], spans, grid)
    return parts, {**choices, "style": style, "chords": [s.chord.name for s in spans[:16]]}


def pick_piece(rng: np.random.Generator) -> BankPiece:
    """A chorale with its own harmony, or a tune to harmonise anew (even odds).

    Tunes to harmonise are the melody-only pieces (folk tunes, when the bank was built
    with them) or, when there are none, chorale sopranos stripped of Bach's harmony.
    """
    want_chorale = rng.random() < P_CHORALE
    bank = load_bank()
    pool = [p for p in bank if bool(p.harmony) == want_chorale] or bank
    piece = pool[int(rng.integers(len(pool)))]
    return piece if want_chorale else melody_only(piece)


def melody_only(piece: BankPiece) -> BankPiece:
    """The piece's tune alone, to be harmonised like a folk song."""
    return dataclasses.replace(piece, harmony=())


def bank_sketch(rng: np.random.Generator, *, duration_s: float) -> Sketch:
    """A piece of the bank arranged to last at least ``duration_s``, from a phrase start."""
    piece = pick_piece(rng)
    chorale = bool(piece.harmony)
    tempo = float(rng.uniform(*(CHORALE_TEMPO if chorale else TEMPO[piece.meter])))
    spb, bar, family = 60 / tempo, bar_beats(piece.meter), METER_FAMILY[piece.meter]
    shift = transposition(rng, piece.melody)
    drums = chorale and family != "6" and bar * spb <= 2.6 and rng.random() < 0.3
    metered = drums or not chorale  # keep whole bars: a groove plays along
    points, inserts, shorten = breaths(piece, spb=spb, bar=bar, whole_bars=metered, rng=rng)
    melody = voice_events(piece.melody + [shift, 0, 0], points=points, inserts=inserts,
                          shorten=shorten, velocity=0.8)
    period = float(warp(np.array([piece.length]), points, inserts, hold=True)[0])
    period = float(np.ceil(period / bar - 1e-6) * bar) if metered else period
    first = float(rng.choice(phrase_starts(melody, min_rest=0.4 / spb)))
    offset = max(0.0, first - float(np.floor(rng.uniform(0, bar))))  # an instrumental lead-in
    timeline = Timeline(points, inserts, period, offset, duration_s / spb)
    grid = Grid((piece.downbeat - offset) % bar, bar, family, timeline.end)
    tonic = (piece.tonic + shift) % 12
    if chorale:
        parts, choices = chorale_parts(rng, piece, shift=shift, timeline=timeline)
    else:
        parts, choices = folk_parts(rng, piece, tonic=tonic, shift=shift, timeline=timeline,
                                    grid=grid)
    if drums:
        choices["drums"] = str(rng.choice(("ballad", "halftime") if family == "4"
                                          else ("waltz",)))
        parts.append(drum_part(grid, pattern=choices["drums"], rng=rng,
                               kit=gm.DRUM_KITS[str(rng.choice(("brush", "jazz", "room")))]))
    meta = {"source": "bank", "piece": piece.source, "collection": piece.collection,
            "title": piece.title, "licence": piece.licence, "transpose": shift,
            "harmony": "original" if chorale else "new",
            "start_beat": round(offset, 3), **choices}
    sung = [e for e in timeline.loop(melody) if e[0] >= first - offset - 1e-6]
    return Sketch(tempo, key_name(tonic, piece.mode), piece.meter, parts, sung, meta)
