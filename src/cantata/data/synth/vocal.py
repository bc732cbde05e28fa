"""Generated vocal melodies: phrases of chord tones and passing notes over a chord timeline.

A melody is planned in phrase units of 1, 2 or 4 bars (3-10 s); each unit is sung for
2-8 s and rests 0.5-3 s. Units follow a form such as AABA: a repeated letter reuses the
motif (rhythm and melodic contour), re-fitted to the chords underneath. Strong beats and
long notes take chord tones; the notes between move by step through the scale.
Times are in quarter-note beats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cantata.data.synth.arrangement import Event
from cantata.data.synth.grooves import Grid
from cantata.data.synth.theory import ChordSpan, chord_at, nearest, scale_pitches

LOWEST, HIGHEST = 52, 76
FORMS = ("AABA", "ABAB", "AABB", "ABAC", "AAAB")
_STEPS = np.array([0, 1, -1, 2, -2, 3, -3, 4, -4])
_STEP_P = np.array([0.08, 0.28, 0.28, 0.12, 0.12, 0.04, 0.04, 0.02, 0.02])
#: rhythm cells per meter family: one pulse (a beat; a dotted quarter in 6/8) each
_CELLS = {
    "simple": (((1.0,), 3), ((0.5, 0.5), 3), ((0.75, 0.25), 1), ((0.25, 0.25, 0.5), 0.5),
               ((1.5, 0.5), 1.5), ((0.5, 1.0, 0.5), 1), ((2.0,), 1)),
    "compound": (((1.5,), 2), ((1.0, 0.5), 3), ((0.5, 0.5, 0.5), 2), ((0.5, 1.0), 1)),
}


@dataclass(frozen=True)
class Motif:
    """A phrase's shape: where it starts in its unit, its rhythm, and its contour."""

    offset: float
    durations: tuple[float, ...]
    steps: tuple[int, ...]


def random_tessitura(rng: np.random.Generator) -> tuple[int, int]:
    """A singer's comfortable range (low, high) inside MIDI 52..76, 10-14 semitones wide."""
    low = int(rng.integers(LOWEST, 63))
    return low, min(HIGHEST, low + int(rng.integers(10, 15)))


def unit_bars(grid: Grid, *, tempo_bpm: float, rng: np.random.Generator) -> int:
    """Bars per phrase unit (1, 2 or 4): the unit length nearest a random 4.5-8.5 s."""
    bar_s = grid.bar_beats * 60 / tempo_bpm
    target = rng.uniform(4.5, 8.5)
    options = [n for n in (1, 2, 4) if 3.0 <= n * bar_s <= 10.0] or [1]
    return min(options, key=lambda n: abs(n * bar_s - target))


def make_motif(rng: np.random.Generator, *, unit_beats: float, family: str,
               tempo_bpm: float) -> Motif:
    """Rhythm and contour for a unit: sing 2-8 s from an offset, then rest 0.5-3 s."""
    spb = 60 / tempo_bpm
    unit_s = unit_beats * spb
    offset = float(rng.choice([0.0, 0.0, 0.0, 1.0, 0.5]))
    longest = float(np.clip(unit_s - 2.5, 0.5, 2.6 - offset * spb))
    rest_s = max(0.5 + (longest - 0.5) * rng.random() ** 2, unit_s - 8.0)
    sing = np.floor((unit_beats - rest_s / spb - offset) * 2) / 2
    durations = _rhythm(rng, length=max(sing, 1.0), family=family, tempo_bpm=tempo_bpm)
    steps = rng.choice(_STEPS, size=len(durations), p=_STEP_P)
    half = len(steps) // 2  # arch: rise in the first half, fall in the second
    steps[:half] = np.where(rng.random(half) < 0.3, np.abs(steps[:half]), steps[:half])
    steps[half:] = np.where(rng.random(len(steps) - half) < 0.3, -np.abs(steps[half:]),
                            steps[half:])
    return Motif(offset, tuple(durations), tuple(int(s) for s in steps))


def _rhythm(rng: np.random.Generator, *, length: float, family: str,
            tempo_bpm: float) -> list[float]:
    """Note durations filling ``length`` beats, ending on a long note."""
    kind = "compound" if family == "6" else "simple"
    fast = tempo_bpm > 100
    cells = [(c, w) for c, w in _CELLS[kind] if not (fast and min(c) < 0.5)]
    final = min(length, float(rng.choice([1.0, 1.5, 2.0])) if length >= 3 else length / 2)
    durations: list[float] = []
    room = length - final
    while room > 1e-6:
        fitting = [(c, w) for c, w in cells if sum(c) <= room + 1e-6]
        if not fitting:
            durations.append(room)
            break
        weights = np.array([w for _, w in fitting])
        cell = fitting[int(rng.choice(len(fitting), p=weights / weights.sum()))][0]
        durations += cell
        room -= sum(cell)
    durations.append(final)
    return durations


def realise(motif: Motif, *, start: float, spans: Sequence[ChordSpan], grid: Grid,
            scale: Sequence[int], previous: int, cadence: int | None,
            rng: np.random.Generator) -> list[Event]:
    """Pitches for one phrase of ``motif`` sung from ``start`` (beats), near ``previous``.

    ``cadence`` is a pitch class the last note should land on when the chord allows.
    """
    low, high = scale[0], scale[-1]
    events, t, pitch = [], start + motif.offset, previous
    loudness = float(rng.uniform(0.65, 0.9))
    for k, (length, step) in enumerate(zip(motif.durations, motif.steps, strict=True)):
        chord = chord_at(spans, t)
        tones = [p for p in range(low, high + 1) if p % 12 in chord.pitch_classes]
        i = scale.index(nearest(scale, pitch))
        if (i + step < 2 and step < 0) or (i + step > len(scale) - 3 and step > 0):
            step = -step  # turn back from the edges of the range
        target = scale[int(np.clip(i + step, 0, len(scale) - 1))]
        last = k == len(motif.durations) - 1
        if last and cadence is not None and cadence in chord.pitch_classes:
            tones = [p for p in tones if p % 12 == cadence] or tones
        strong = length >= 1.0 or _on_strong_beat(t, grid) or last
        if strong and tones:
            moved = [p for p in tones if (p - pitch) * step > 0] if step else tones
            target = nearest(moved or tones, target)
        pitch = target
        accent = 0.05 if _on_strong_beat(t, grid) else 0.0
        events.append((t, length, pitch, min(1.0, loudness + accent)))
        t += length
    return events


def _on_strong_beat(t: float, grid: Grid) -> bool:
    pulse = 1.5 if grid.family == "6" else (2.0 if grid.bar_beats == 4 else 1.0)
    return abs(((t - grid.downbeat) / pulse) - round((t - grid.downbeat) / pulse)) < 1e-6


def generate_melody(rng: np.random.Generator, *, spans: Sequence[ChordSpan], grid: Grid,
                    tonic: int, mode: str, tempo_bpm: float, start: float) -> list[Event]:
    """A vocal line from beat ``start`` (a downbeat) to the grid's end, phrase by phrase."""
    low, high = random_tessitura(rng)
    scale = scale_pitches(tonic, mode, low=low, high=high)
    bars = unit_bars(grid, tempo_bpm=tempo_bpm, rng=rng)
    unit = bars * grid.bar_beats
    form = FORMS[int(rng.integers(len(FORMS)))]
    motifs: dict[str, Motif] = {}
    events: list[Event] = []
    previous = nearest(scale, (low + high) / 2)
    for n, unit_start in enumerate(np.arange(start, grid.end, unit)):
        letter = form[n % len(form)]
        if letter not in motifs:
            motifs[letter] = make_motif(rng, unit_beats=unit, family=grid.family,
                                        tempo_bpm=tempo_bpm)
        cadence = tonic if n % len(form) == len(form) - 1 else None
        phrase = realise(motifs[letter], start=float(unit_start), spans=spans, grid=grid,
                         scale=scale, previous=previous, cadence=cadence, rng=rng)
        events += [e for e in phrase if e[0] + e[1] <= grid.end + 1e-6]
        previous = phrase[-1][2]
    return events
