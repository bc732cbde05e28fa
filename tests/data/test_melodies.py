"""The melody bank and the music theory under the arrangers."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.data.synth.bank_songs import (
    breaths,
    harmonise,
    melody_only,
    pick_piece,
    voice_events,
)
from cantata.data.synth.melodies import load_bank
from cantata.data.synth.theory import Chord, parse_roman, voicing


def test_bank_loads_chorales_with_harmony():
    """The shipped bank holds public-domain chorales only (Essen tunes are non-commercial)."""
    bank = load_bank()
    assert len(bank) > 50
    chorales = [p for p in bank if p.collection == "bach-chorales"]
    folk = [p for p in bank if p.collection == "essen-folksong"]
    assert len(chorales) > 50
    for piece in bank:
        assert piece.melody.ndim == 2 and piece.melody.shape[1] == 3
        assert np.all(piece.melody[:, 2] > 0) and np.all(np.diff(piece.melody[:, 1]) > 0)
        assert piece.licence and piece.source and len(piece.phrase_ends) >= 2
        assert piece.meter in {"2/4", "4/4", "2/2", "3/4", "6/8"}
        assert np.ptp(piece.melody[:, 0]) <= 24  # fits 52..76 after transposition
    assert all(len(p.harmony) == 3 for p in chorales) and not any(p.harmony for p in folk)
    assert all("NON-COMMERCIAL" in p.licence for p in folk)


@pytest.mark.parametrize("strip_harmony", [False, True])
def test_breaths_leave_half_a_second_at_every_phrase_end(strip_harmony):
    rng = np.random.default_rng(0)
    pieces = [melody_only(p) if strip_harmony else p for p in load_bank()[:40]]
    for piece in pieces:
        spb = 60 / 90
        points, inserts, shorten = breaths(piece, spb=spb, bar=4.0, whole_bars=False, rng=rng)
        melody = voice_events(piece.melody, points=points, inserts=inserts, shorten=shorten,
                              velocity=0.8)
        assert len(melody) == len(piece.melody)
        note_ends = piece.melody[:, 1] + piece.melody[:, 2]
        for p in piece.phrase_ends[:-1]:
            i = int(np.argmin(np.abs(note_ends - p)))
            gap_s = (melody[i + 1][0] - melody[i][0] - melody[i][1]) * spb
            assert 0.5 - 1e-6 <= gap_s <= 3.5, f"{piece.source} at beat {p}: {gap_s:.2f} s"


def test_harmonise_puts_the_melody_on_chord_tones():
    piece = melody_only(next(p for p in load_bank() if p.mode == "major"))
    spans = harmonise(piece, tonic=piece.tonic, shift=0, seg=4.0, rng=np.random.default_rng(0))
    on, total = 0.0, 0.0
    for pitch, start, length in piece.melody:
        chord = next(s.chord for s in spans if s.start <= start + 1e-6 < s.end)
        total += length
        on += length * (int(pitch) % 12 in chord.pitch_classes)
    assert on / total > 0.6
    assert spans[-1].chord == Chord(piece.tonic, "maj")


def test_pick_piece_gives_both_kinds():
    rng = np.random.default_rng(3)
    picks = [pick_piece(rng) for _ in range(40)]
    assert any(p.harmony for p in picks) and any(not p.harmony for p in picks)


@pytest.mark.parametrize(("symbol", "tonic", "chord"), [
    ("I", 0, Chord(0, "maj")), ("vi", 0, Chord(9, "min")), ("V7", 2, Chord(9, "7")),
    ("bVII", 9, Chord(7, "maj")), ("ii7", 5, Chord(7, "min7")), ("Imaj7", 7, Chord(7, "maj7")),
    ("viio", 0, Chord(11, "dim")), ("bIII", 4, Chord(7, "maj"))])
def test_parse_roman(symbol, tonic, chord):
    assert parse_roman(symbol, tonic) == chord


def test_parse_roman_rejects_nonsense():
    with pytest.raises(ValueError):
        parse_roman("X7", 0)


def test_voicing_stays_in_range_and_leads_smoothly():
    c, f = Chord(0, "maj"), Chord(5, "maj")
    first = voicing(c, low=52, high=72)
    second = voicing(f, low=52, high=72, previous=first)
    assert {p % 12 for p in first} == {0, 4, 7} and {p % 12 for p in second} == {5, 9, 0}
    assert all(52 <= p <= 72 for p in first + second)
    assert abs(np.mean(second) - np.mean(first)) <= 3
