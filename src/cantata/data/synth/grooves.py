"""Accompaniment parts over a chord timeline: comping, bass lines, drum patterns.

Patterns are written per bar for three meter families: ``"4"`` (2/4, 4/4, 2/2: a bar
of 2 or 4 quarter beats; a 2-beat bar plays the first half of the 4-beat pattern),
``"3"`` (3/4) and ``"6"`` (6/8: a bar of 3 quarter beats in two dotted-quarter pulses).
Times are in quarter-note beats.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from cantata.data.synth import instruments as gm
from cantata.data.synth.arrangement import Event, Part
from cantata.data.synth.theory import Chord, ChordSpan, chord_at, nearest, pitch_in_range, voicing

_EIGHTHS4 = tuple(i / 2 for i in range(8))
_EIGHTHS3 = tuple(i / 2 for i in range(6))
#: comping rhythms: (onset, duration) per bar
COMP = {
    "4": {"sustain": ((0, 4),), "halves": ((0, 2), (2, 2)),
          "quarters": tuple((b, 0.9) for b in range(4)),
          "eighths": tuple((b, 0.45) for b in _EIGHTHS4),
          "push": ((0, 1.5), (1.5, 2.5)), "offbeats": tuple((b + 0.5, 0.4) for b in range(4)),
          "bossa": ((0, 1), (1.5, 1), (3, 0.5), (3.5, 0.5)), "charleston": ((0, 1), (1.5, 0.5)),
          "arpeggio": ()},
    "3": {"sustain": ((0, 3),), "waltz": ((1, 0.9), (2, 0.9)),
          "quarters": tuple((b, 0.9) for b in range(3)), "dotted": ((0, 1.5), (1.5, 1.5)),
          "arpeggio": ()},
    "6": {"sustain": ((0, 3),), "pulse": ((0, 1.4), (1.5, 1.4)),
          "jig": ((0, 0.9), (1, 0.45), (1.5, 0.9), (2.5, 0.45)),
          "eighths": tuple((b, 0.45) for b in _EIGHTHS3), "arpeggio": ()},
}
#: bass rhythms: (onset, duration, degree) per bar; R root, 5 fifth, 3 third, O octave
BASS = {
    "4": {"whole": ((0, 4, "R"),), "halves": ((0, 2, "R"), (2, 2, "5")),
          "pop": ((0, 1.5, "R"), (1.5, 0.5, "R"), (2, 1, "5"), (3, 1, "R")),
          "eighths": tuple((b, 0.45, "R") for b in _EIGHTHS4),
          "bossa": ((0, 1.5, "R"), (1.5, 0.5, "5"), (2, 1.5, "5"), (3.5, 0.5, "R")),
          "octaves": tuple((b, 0.4, "RO"[i % 2]) for i, b in enumerate(_EIGHTHS4)),
          "walking": ()},
    "3": {"waltz": ((0, 1, "R"),), "waltz2": ((0, 2, "R"), (2, 1, "5")),
          "dotted": ((0, 1.5, "R"), (1.5, 1.5, "5"))},
    "6": {"pulse": ((0, 1.5, "R"), (1.5, 1.5, "5")),
          "jig": ((0, 1, "R"), (1, 0.5, "5"), (1.5, 1, "R"), (2.5, 0.5, "5"))},
}
#: drum patterns: GM key -> onsets per bar
DRUMS = {
    "4": {"backbeat": {gm.KICK: (0, 2), gm.SNARE: (1, 3), gm.CLOSED_HAT: _EIGHTHS4},
          "pop": {gm.KICK: (0, 1.5, 2.5), gm.SNARE: (1, 3), gm.CLOSED_HAT: _EIGHTHS4},
          "rock": {gm.KICK: (0, 0.5, 2, 2.5), gm.SNARE: (1, 3), gm.RIDE: _EIGHTHS4},
          "disco": {gm.KICK: (0, 1, 2, 3), gm.CLAP: (1, 3), gm.OPEN_HAT: (0.5, 1.5, 2.5, 3.5),
                    gm.CLOSED_HAT: (0, 1, 2, 3)},
          "halftime": {gm.KICK: (0, 1.5), gm.SNARE: (2,), gm.CLOSED_HAT: _EIGHTHS4},
          "ballad": {gm.KICK: (0, 2.5), gm.SIDE_STICK: (1, 3), gm.CLOSED_HAT: (0, 1, 2, 3)},
          "bossa": {gm.KICK: (0, 1.5, 2, 3.5), gm.SIDE_STICK: (0, 1.5, 3),
                    gm.SHAKER: _EIGHTHS4},
          "shuffle": {gm.KICK: (0, 2), gm.SNARE: (1, 3), gm.CLOSED_HAT: _EIGHTHS4},
          "jazz": {gm.RIDE: (0, 1, 1.5, 2, 3, 3.5), gm.PEDAL_HAT: (1, 3), gm.KICK: (0,)}},
    "3": {"waltz": {gm.KICK: (0,), gm.SIDE_STICK: (1, 2), gm.CLOSED_HAT: (0, 1, 2)},
          "waltz8": {gm.KICK: (0,), gm.SNARE: (2,), gm.CLOSED_HAT: _EIGHTHS3}},
    "6": {"sixeight": {gm.KICK: (0,), gm.SNARE: (1.5,), gm.CLOSED_HAT: _EIGHTHS3},
          "sixeight-rock": {gm.KICK: (0, 1), gm.SNARE: (1.5,), gm.RIDE: _EIGHTHS3}},
}
_DRUM_VELOCITY = {gm.KICK: 0.85, gm.SNARE: 0.8, gm.CLAP: 0.75, gm.SIDE_STICK: 0.6,
                  gm.CLOSED_HAT: 0.5, gm.OPEN_HAT: 0.5, gm.RIDE: 0.55, gm.PEDAL_HAT: 0.45,
                  gm.SHAKER: 0.4}


@dataclass(frozen=True)
class Grid:
    """Where the bars fall: the first full bar's ``downbeat``, bar length, and the end."""

    downbeat: float
    bar_beats: float
    family: str
    end: float

    def bars(self) -> Iterator[float]:
        """Start of every bar overlapping ``[0, end)``, the first possibly before 0."""
        t = self.downbeat - np.ceil(self.downbeat / self.bar_beats) * self.bar_beats
        while t < self.end:
            yield float(t)
            t += self.bar_beats

    def pattern(self, table: dict[str, dict[str, tuple]], name: str) -> tuple:
        """The pattern's events that start inside one bar of this grid, cut at the bar line."""
        return tuple((e[0], min(e[1], self.bar_beats - e[0]), *e[2:])
                     for e in table[self.family][name] if e[0] < self.bar_beats - 1e-6)


def split_by_chords(spans: Sequence[ChordSpan], start: float,
                    duration: float) -> list[tuple[float, float, Chord]]:
    """Cut ``[start, start + duration)`` where the chord changes: (start, duration, chord)."""
    end = start + duration
    cuts = [start] + [s.start for s in spans if start < s.start < end - 0.2] + [end]
    return [(a, b - a, chord_at(spans, a)) for a, b in zip(cuts, cuts[1:], strict=False)]


def comp_part(spans: Sequence[ChordSpan], grid: Grid, *, pattern: str, role: str, program: int,
              register: tuple[int, int], velocity: float, rng: np.random.Generator) -> Part:
    """Chords in ``pattern``'s rhythm, voice-led within ``register`` (low, high)."""
    part = Part(role, program, volume=float(rng.uniform(0.6, 0.85)))
    if pattern == "arpeggio":
        part.events = _arpeggio(spans, grid, register=register, velocity=velocity, rng=rng)
        return part
    previous: list[int] = []
    for bar in grid.bars():
        for onset, length in grid.pattern(COMP, pattern):
            accent = 1.0 if onset == 0 else 0.9
            for t, d, chord in split_by_chords(spans, bar + onset, length):
                if t < 0 or t >= grid.end:
                    continue
                previous = voicing(chord, low=register[0], high=register[1], previous=previous)
                part.events += [(t, d, p, velocity * accent) for p in previous]
    return part


def _arpeggio(spans: Sequence[ChordSpan], grid: Grid, *, register: tuple[int, int],
              velocity: float, rng: np.random.Generator) -> list[Event]:
    """Broken chords in eighths, each note ringing for a beat (or to the chord change)."""
    order = [(0, 1, 2, 3, 2, 1), (0, 2, 1, 2, 3, 2), (0, 1, 2, 1, 3, 1)][int(rng.integers(3))]
    events, previous = [], []
    step = 0
    for bar in grid.bars():
        for onset in np.arange(0, grid.bar_beats, 0.5):
            t = bar + float(onset)
            if not 0 <= t < grid.end:
                continue
            chord = chord_at(spans, t)
            previous = voicing(chord, low=register[0], high=register[1], previous=previous)
            tones = [previous[0] - 12] + previous if onset == 0 else previous
            pitch = tones[order[step % len(order)] % len(tones)] if onset else tones[0]
            ring = split_by_chords(spans, t, 1.0)[0][1]
            events.append((t, ring, pitch, velocity * (1.0 if onset == 0 else 0.85)))
            step += 1
    return events


def bass_part(spans: Sequence[ChordSpan], grid: Grid, *, pattern: str, program: int,
              rng: np.random.Generator) -> Part:
    """A bass line: chord roots and fifths in ``pattern``'s rhythm, or a walking line."""
    part = Part("bass", program, volume=float(rng.uniform(0.7, 0.9)))
    if pattern == "walking":
        part.events = _walking(spans, grid)
        return part
    for bar in grid.bars():
        for onset, length, degree in grid.pattern(BASS, pattern):
            for t, d, chord in split_by_chords(spans, bar + onset, length):
                if 0 <= t < grid.end:
                    accent = 0.85 if onset == 0 else 0.75
                    part.events.append((t, d * 0.95, _bass_pitch(chord, degree), accent))
    return part


def _bass_pitch(chord: Chord, degree: str) -> int:
    root = pitch_in_range(chord.root, low=35)
    if degree == "5":
        return pitch_in_range(chord.fifth, low=root)
    if degree == "3":
        return pitch_in_range(chord.pitch_classes[1], low=root)
    return root + (12 if degree == "O" else 0)


def _walking(spans: Sequence[ChordSpan], grid: Grid) -> list[Event]:
    """Quarter notes: root on chord changes, chord tones between, a step into each change."""
    events, pitch = [], 40
    beats = [float(t) for bar in grid.bars() for t in bar + np.arange(grid.bar_beats)]
    for t in (b for b in beats if 0 <= b < grid.end):
        chord, following = chord_at(spans, t), chord_at(spans, t + 1)
        if chord_at(spans, t - 1) != chord or (t - grid.downbeat) % grid.bar_beats == 0:
            pitch = nearest([pitch_in_range(chord.root, low=33), pitch_in_range(chord.root,
                                                                                low=40)], pitch)
        elif following != chord:
            target = nearest([pitch_in_range(following.root, low=33 + k) for k in (0, 12)],
                             pitch)
            pitch = target + (1 if pitch > target else -1)
        else:
            tones = [p for pc in chord.pitch_classes for p in (pitch_in_range(pc, low=33),
                                                               pitch_in_range(pc, low=45))]
            pitch = nearest([p for p in tones if p != pitch], pitch + 2)
        events.append((t, 0.9, pitch, 0.8))
    return events


def drum_part(grid: Grid, *, pattern: str, kit: int, rng: np.random.Generator,
              fill_every: int = 4) -> Part:
    """A drum pattern with crashes at section starts and fills every ``fill_every`` bars."""
    part = Part("drums", kit, drums=True, volume=float(rng.uniform(0.6, 0.85)))
    hits = DRUMS[grid.family][pattern]
    for i, bar in enumerate(grid.bars()):
        fill_from = grid.bar_beats - (1 if rng.random() < 0.6 else 2)
        fill = (i + 1) % fill_every == 0 and grid.bar_beats >= 2
        for key, onsets in hits.items():
            for onset in (o for o in onsets if o < grid.bar_beats - 1e-6):
                if fill and onset >= fill_from and key != gm.KICK:
                    continue
                accent = 1.0 if onset == int(onset) else 0.85
                part.events.append((bar + onset, 0.25, key, _DRUM_VELOCITY[key] * accent))
        if fill:
            part.events += _fill(bar + fill_from, grid.bar_beats - fill_from, rng)
        if i % fill_every == 0:
            part.events.append((bar, 0.5, gm.CRASH, 0.7))
    part.events = [e for e in part.events if 0 <= e[0] < grid.end]
    return part


def _fill(start: float, length: float, rng: np.random.Generator) -> list[Event]:
    """Snare and toms in 8ths or 16ths, falling in pitch, louder towards the end."""
    step = 0.25 if rng.random() < 0.5 else 0.5
    n = int(round(length / step))
    keys = [gm.SNARE] * (n // 3) + [gm.TOMS[min(5, (k * 6) // n)] for k in range(n - n // 3)]
    return [(start + k * step, step, key, 0.6 + 0.3 * k / n) for k, key in enumerate(keys)]
