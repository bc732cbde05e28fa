"""Symbolic music shared by the synthesizers: notes of a melody, a singer's line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    """One note. Times in seconds; pitch as a (possibly fractional) MIDI number.

    Attributes:
        pitch_midi: 69.0 is A4 = 440 Hz.
        start_s: onset.
        duration_s: length (> 0).
        velocity: loudness 0..1.
    """

    pitch_midi: float
    start_s: float
    duration_s: float
    velocity: float = 0.8

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def freq_hz(self) -> float:
        return midi_to_hz(self.pitch_midi)


def midi_to_hz(pitch_midi: float) -> float:
    return 440.0 * 2 ** ((pitch_midi - 69.0) / 12)
