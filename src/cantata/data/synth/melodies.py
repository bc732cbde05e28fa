"""The melody bank: tunes and harmonisations from music21's corpus, shipped as data.

``melodies/bank.json.gz`` is made once by ``scripts/extract_melodies.py`` (music21 is
not needed at run time). It holds Bach chorales (soprano melody; alto, tenor and bass
harmony) and Essen folk songs (melody only). Times are in quarter-note beats.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from cantata.errors import CantataError

BANK_FILE = "bank.json.gz"


@dataclass(frozen=True)
class BankPiece:
    """One piece of the bank.

    Attributes:
        source: music21 corpus path, e.g. ``"bach/bwv269"`` or ``"essenFolksong/erk10#12"``.
        collection: ``"bach-chorales"`` or ``"essen-folksong"``.
        title: the piece's title.
        licence: terms of use of the collection.
        meter: time signature, e.g. ``"3/4"``.
        tonic: key's tonic pitch class 0..11; ``mode`` is ``"major"`` or ``"minor"``.
        downbeat: offset of the first full bar (beats; > 0 after a pickup).
        phrase_ends: end of each melodic phrase (beats), ascending.
        melody: float array (notes, 3): pitch_midi, start, duration (beats).
        harmony: the other voices (alto, tenor, bass), each like ``melody``; may be empty.
    """

    source: str
    collection: str
    title: str
    licence: str
    meter: str
    tonic: int
    mode: str
    downbeat: float
    phrase_ends: tuple[float, ...]
    melody: np.ndarray
    harmony: tuple[np.ndarray, ...]

    @property
    def length(self) -> float:
        """End of the last melody note (beats)."""
        return float(self.melody[-1, 1] + self.melody[-1, 2])


def _voice(flat: list[int], ticks: int) -> np.ndarray:
    notes = np.asarray(flat, dtype=np.float64).reshape(-1, 3)
    notes[:, 1:] /= ticks
    return notes


def _piece(raw: dict, *, ticks: int, licences: dict[str, str]) -> BankPiece:
    return BankPiece(
        source=raw["id"], collection=raw["collection"], title=raw["title"],
        licence=licences[raw["collection"]], meter=raw["meter"], tonic=int(raw["key"][0]),
        mode=raw["key"][1], downbeat=raw["downbeat"] / ticks,
        phrase_ends=tuple(t / ticks for t in raw["phrase_ends"]),
        melody=_voice(raw["melody"], ticks),
        harmony=tuple(_voice(v, ticks) for v in raw["harmony"]))


@lru_cache(maxsize=1)
def load_bank() -> tuple[BankPiece, ...]:
    """Every piece of the bank (parsed once per process).

    Raises:
        CantataError: the bank file is missing or unreadable (a broken install).
    """
    try:
        path = resources.files("cantata.data.synth") / "melodies" / BANK_FILE
        with resources.as_file(path) as file, gzip.open(file, "rt", encoding="utf-8") as f:
            bank = json.load(f)
    except (OSError, ValueError) as err:
        raise CantataError(f"cannot read the melody bank {BANK_FILE}: {err}; rebuild it with "
                           "scripts/extract_melodies.py") from err
    return tuple(_piece(p, ticks=bank["ticks_per_quarter"], licences=bank["licences"])
                 for p in bank["pieces"])
