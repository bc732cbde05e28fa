"""The arrangement value types, and turning a sketch in beats into one in seconds.

The arrangers write a :class:`Sketch`: parts of ``(start_beat, duration_beats, pitch,
velocity)`` events at one tempo. :func:`finish` converts it to an :class:`Arrangement`
in seconds: swing, a little human timing and loudness variation, cut to the duration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cantata.data.synth.instruments import DRUM_CHANNEL
from cantata.data.synth.score import Note

#: (start_beat, duration_beats, pitch_midi, velocity 0..1)
Event = tuple[float, float, int, float]
MIN_NOTE_S = 0.03


@dataclass(frozen=True)
class Track:
    """One instrument of an arrangement.

    Attributes:
        role: what it plays, e.g. ``"comp"``, ``"bass"``, ``"drums"``, ``"alto"``.
        program: GM program 0..127; on the drum channel, the drum-kit preset.
        channel: MIDI channel 0..15; 9 (GM channel 10) is the drum kit.
        notes: the notes, times in seconds; for drums, pitch is the GM drum key.
        volume: channel volume 0..1 (MIDI CC 7).
        pan: stereo position -1 (left) .. 1 (right) (MIDI CC 10).
    """

    role: str
    program: int
    channel: int
    notes: tuple[Note, ...]
    volume: float = 0.8
    pan: float = 0.0

    @property
    def is_drums(self) -> bool:
        return self.channel == DRUM_CHANNEL


@dataclass(frozen=True)
class Arrangement:
    """A composed piece: the accompaniment's tracks and the vocal melody for a singer.

    Attributes:
        duration_s: length of the piece; every note ends by then.
        tempo_bpm: quarter notes per minute.
        key: e.g. ``"D major"`` (the key the piece sounds in).
        time_signature: e.g. ``"3/4"``.
        tracks: the accompaniment (the melody is not among them).
        melody: the vocal line, in phrases separated by rests, MIDI ~52..76.
        meta: JSON-able provenance: source piece or generator parameters, instruments.
    """

    duration_s: float
    tempo_bpm: float
    key: str
    time_signature: str
    tracks: tuple[Track, ...]
    melody: tuple[Note, ...]
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class Part:
    """A track in the making, in beats. ``program`` is the kit preset for drums."""

    role: str
    program: int
    events: list[Event] = field(default_factory=list)
    drums: bool = False
    volume: float = 0.8


@dataclass
class Sketch:
    """A whole arrangement in the making, in beats, before :func:`finish`."""

    tempo_bpm: float
    key: str
    time_signature: str
    parts: list[Part]
    melody: list[Event]
    meta: dict[str, Any]
    swing: bool = False


def swing_beats(beats: np.ndarray) -> np.ndarray:
    """Swing eighths: the off-beat eighth moves from 1/2 to 2/3 of the beat."""
    whole = np.floor(beats)
    frac = beats - whole
    return whole + np.where(frac < 0.5, frac * 4 / 3, 2 / 3 + (frac - 0.5) * 2 / 3)


def to_notes(events: list[Event], *, sketch: Sketch, duration_s: float,
             rng: np.random.Generator, jitter_s: float) -> tuple[Note, ...]:
    """Events in beats to notes in seconds: swung, jittered, cut at ``duration_s``."""
    if not events:
        return ()
    ev = np.array(sorted(events), dtype=np.float64)
    starts, ends = ev[:, 0], ev[:, 0] + ev[:, 1]
    if sketch.swing:
        starts, ends = swing_beats(starts), swing_beats(ends)
    spb = 60.0 / sketch.tempo_bpm
    starts = np.maximum(starts * spb + rng.normal(0, jitter_s, len(ev)), 0.0)
    ends = np.minimum(ends * spb, duration_s)
    velocity = np.clip(ev[:, 3] + rng.normal(0, 0.04, len(ev)), 0.05, 1.0)
    return tuple(Note(float(p), float(s), float(e - s), float(v))
                 for s, e, p, v in zip(starts, ends, ev[:, 2], velocity, strict=True)
                 if e - s >= MIN_NOTE_S)


def finish(sketch: Sketch, *, duration_s: float, rng: np.random.Generator) -> Arrangement:
    """Seconds, channels, volumes and pans for a sketch; notes cut at ``duration_s``."""
    tracks, channels = [], iter(c for c in range(16) if c != DRUM_CHANNEL)
    for part in sketch.parts:
        notes = to_notes(part.events, sketch=sketch, duration_s=duration_s, rng=rng,
                         jitter_s=0.002 if part.drums else 0.006)
        if not notes:
            continue
        channel = DRUM_CHANNEL if part.drums else next(channels)
        pan = 0.0 if part.drums or part.role == "bass" else float(rng.uniform(-0.6, 0.6))
        tracks.append(Track(part.role, part.program, channel, notes,
                            volume=round(part.volume, 3), pan=round(pan, 3)))
    melody = to_notes(sketch.melody, sketch=sketch, duration_s=duration_s, rng=rng, jitter_s=0.0)
    melody = tuple(n for n in melody if n.end_s <= duration_s and n.duration_s >= 0.08)
    meta = {**sketch.meta, "tempo_bpm": round(sketch.tempo_bpm, 2), "key": sketch.key,
            "time_signature": sketch.time_signature,
            "programs": {t.role: t.program for t in tracks}}
    return Arrangement(duration_s, sketch.tempo_bpm, sketch.key, sketch.time_signature,
                       tuple(tracks), melody, meta)
