"""Just enough music theory for the arrangers: keys, scales, chords, voicings.

Pitches are MIDI numbers (60 = C4); pitch classes are 0..11 (0 = C). Times in this
module and the arrangers are in beats (quarter notes) until a tempo turns them into
seconds.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
CHORD_INTERVALS = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "5": (0, 7),
}
_ROMAN = {"I": 0, "II": 2, "III": 4, "IV": 5, "V": 7, "VI": 9, "VII": 11}
_SYMBOL = re.compile(r"^(b?)(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(maj7|7|o|5)?$")
#: diatonic triads per mode, as Roman numerals (for harmonising a melody)
DIATONIC = {"major": ("I", "ii", "iii", "IV", "V", "vi"),
            "minor": ("i", "iv", "V", "bVI", "bIII", "bVII")}


@dataclass(frozen=True)
class Chord:
    """A chord as a root pitch class and a quality (a key of ``CHORD_INTERVALS``)."""

    root: int
    quality: str

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in CHORD_INTERVALS[self.quality])

    @property
    def fifth(self) -> int:
        """Pitch class of the chord's fifth (diminished for ``dim``)."""
        return (self.root + next(i for i in CHORD_INTERVALS[self.quality] if i in (6, 7))) % 12

    @property
    def name(self) -> str:
        suffix = {"maj": "", "min": "m", "dim": "dim", "5": "5"}.get(self.quality, self.quality)
        return PITCH_NAMES[self.root] + suffix


@dataclass(frozen=True)
class ChordSpan:
    """A chord sounding from ``start`` to ``end`` (beats)."""

    start: float
    end: float
    chord: Chord


def parse_roman(symbol: str, tonic: int) -> Chord:
    """A Roman-numeral chord in the key of ``tonic``.

    Upper case is major, lower case minor; degrees count from the major scale, so a
    minor key's sixth is ``bVI``. Suffixes: ``7`` (dominant, or minor seventh on a
    lower-case numeral), ``maj7``, ``o`` (diminished), ``5`` (power chord).

    Raises:
        ValueError: the symbol is not of that form.
    """
    match = _SYMBOL.match(symbol)
    if match is None:
        raise ValueError(f"not a Roman-numeral chord: {symbol!r}")
    flat, numeral, suffix = match.groups()
    root = (tonic + _ROMAN[numeral.upper()] - (1 if flat else 0)) % 12
    minor = numeral.islower()
    quality = {None: "min" if minor else "maj", "7": "min7" if minor else "7",
               "maj7": "maj7", "o": "dim", "5": "5"}[suffix]
    return Chord(root, quality)


def key_name(tonic: int, mode: str) -> str:
    """E.g. ``"F# minor"``."""
    return f"{PITCH_NAMES[tonic % 12]} {mode}"


def scale_pitches(tonic: int, mode: str, *, low: int = 0, high: int = 127) -> list[int]:
    """Every MIDI pitch of the key's scale in ``[low, high]``, ascending."""
    pcs = {(tonic + i) % 12 for i in SCALES[mode]}
    return [p for p in range(low, high + 1) if p % 12 in pcs]


def pitch_in_range(pitch_class: int, *, low: int) -> int:
    """The lowest pitch of ``pitch_class`` at or above ``low``."""
    return low + (pitch_class - low) % 12


def nearest(candidates: Sequence[int], target: float) -> int:
    """The candidate pitch closest to ``target`` (candidates non-empty)."""
    return min(candidates, key=lambda p: (abs(p - target), p))


def chord_at(spans: Sequence[ChordSpan], beat: float) -> Chord:
    """The chord sounding at ``beat`` (the first or last one outside the spans)."""
    starts = [s.start for s in spans]
    i = max(0, bisect.bisect_right(starts, beat + 1e-6) - 1)
    return spans[i].chord


def voicing(chord: Chord, *, low: int, high: int, previous: Sequence[int] = ()) -> list[int]:
    """A close voicing of ``chord`` within ``[low, high]``, near ``previous`` if given.

    Tries each inversion in each octave that fits and keeps the one whose notes move
    least from the previous voicing (smooth voice leading), else the lowest.
    """
    pcs = chord.pitch_classes
    options = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base in range(low, high - 5):
            if base % 12 != order[0]:
                continue
            notes = [base]
            for pc in order[1:]:
                notes.append(notes[-1] + (pc - notes[-1]) % 12)
            if notes[-1] <= high:
                options.append(notes)
    if not options:
        return [pitch_in_range(pc, low=low) for pc in pcs]
    if not previous:
        return options[0]
    centre = sum(previous) / len(previous)
    return min(options, key=lambda v: abs(sum(v) / len(v) - centre))
