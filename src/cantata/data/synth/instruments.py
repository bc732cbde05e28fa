"""General MIDI instrument choices per role, and the GM drum map.

Programs are 0-based GM numbers (0 = Acoustic Grand Piano). Voice-like programs
(Choir Aahs 52, Voice Oohs 53, Synth Voice 54, Lead 6 "voice" 85, Pad 4 "choir" 91,
Pad 7 "halo" 94) are never used: the accompaniment must contain no singing-like sound.
"""

from __future__ import annotations

import numpy as np

DRUM_CHANNEL = 9  # GM channel 10

PIANOS = (0, 1, 2, 4, 5)
GUITARS = (24, 25, 26, 27, 28)
ROCK_GUITARS = (29, 30)
ORGANS = (16, 17, 18, 19, 21)
PADS = (48, 49, 50, 88, 89, 90, 92, 95)
BASSES = (32, 33, 34, 35, 38)
UPRIGHT_BASSES = (32, 33)

#: harmony-voice ensembles for the bank's chorales: per voice (alto, tenor, bass), programs
ENSEMBLES = {
    "piano": ((0,), (0,), (0,)),
    "electric piano": ((4, 5), (4, 5), (4, 5)),
    "organ": ((19, 16, 20), (19, 16, 20), (19, 16, 20)),
    "harpsichord": ((6,), (6,), (6,)),
    "guitar": ((24, 25), (24, 25), (24, 25)),
    "strings": ((40, 41), (41, 42), (42, 43)),
    "string ensemble": ((48, 49), (48, 49), (48, 49, 42)),
    "winds": ((71, 68, 73), (71, 60, 69), (70, 58, 57)),
    "brass": ((56, 60), (60, 57), (57, 58)),
    "mixed": (PIANOS + (6, 16, 40, 41, 71, 73, 46), (41, 42, 60, 71, 24), (42, 43, 70, 32, 33)),
}

# GM percussion keys
KICK, SIDE_STICK, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 39, 42, 44, 46
CRASH, RIDE, SHAKER = 49, 51, 70
TOMS = (50, 48, 47, 45, 43, 41)  # high to low
#: GS drum-kit presets in FluidR3_GM (program on the drum channel, bank 128)
DRUM_KITS = {"standard": 0, "room": 8, "power": 16, "electronic": 24, "tr-808": 25,
             "jazz": 32, "brush": 40}
GM_DRUM_KEYS = frozenset(range(35, 82))


def pick(rng: np.random.Generator, choices: tuple) -> int:
    """One element of ``choices``, uniformly."""
    return choices[int(rng.integers(len(choices)))]
