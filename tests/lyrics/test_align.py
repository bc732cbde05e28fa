"""The syllable aligner on synthetic evidence, and the even spread."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.lyrics import align as align_module
from cantata.lyrics.align import align, singing_mask, spread
from cantata.lyrics.nuclei import Evidence
from cantata.lyrics.text import parse_lyrics

HOP = 0.01


def synthetic(onsets_s, *, duration_s=12.0, note_s=0.35, spurious=()):
    """Evidence with an onset peak at every syllable start (and at ``spurious`` times), the
    voice active for ``note_s`` after each."""
    n = round(duration_s / HOP)
    onset, activity = np.zeros(n), np.zeros(n)
    for t in onsets_s:
        i = round(t / HOP)
        onset[i] = 1.0
        onset[i - 1] = onset[i + 1] = 0.5
        activity[i:i + round(note_s / HOP)] = 1.0
    for t in spurious:
        onset[round(t / HOP)] = 0.4
    z = np.zeros(n)
    return Evidence(z, z, np.full(n, np.nan), onset, activity)


LYRICS = "one two three\nfour five six ten\neight nine"
#: syllable starts: three lines, a pause of over a second between them
STARTS = [1.0, 1.4, 1.8, 3.5, 3.9, 4.3, 4.7, 7.0, 7.4]


def word_starts(timed):
    return [w.start for line in timed for w in line.words]


def test_every_word_lands_on_its_onset():
    lines = parse_lyrics(LYRICS, "en")
    timed = align(lines, synthetic(STARTS, spurious=(2.05, 5.5, 9.0)), [(0.5, 10.0)])
    assert np.allclose(word_starts(timed), STARTS, atol=0.02)
    assert [ln.text for ln in timed] == LYRICS.splitlines()
    assert [ln.start for ln in timed] == [timed[0].words[0].start, 3.5, 7.0]
    for line in timed:  # words end where the voice stops, before the pause
        assert line.end == line.words[-1].end and line.end < line.start + 2.0
        assert all(w.start < w.end for w in line.words)


def test_a_word_of_two_syllables_spans_both():
    lines = parse_lyrics("one seven two", "en")  # seven: two syllables
    timed = align(lines, synthetic([1.0, 1.4, 1.8, 2.2]), [])
    assert np.allclose(word_starts(timed), [1.0, 1.4, 2.2], atol=0.02)
    assert timed[0].words[1].end == pytest.approx(1.8 + 0.35, abs=0.02)  # its voice stops


def test_syllables_stay_inside_the_singing_regions():
    lines = parse_lyrics("a b c", "en")
    ev = synthetic([1.0, 1.4, 1.8, 6.0, 6.4, 6.8])  # the same notes again, outside
    timed = align(lines, ev, [(5.5, 7.5)])
    assert np.allclose(word_starts(timed), [6.0, 6.4, 6.8], atol=0.02)


def test_more_syllables_than_onsets_still_times_every_word():
    lines = parse_lyrics("la " * 30, None)
    timed = align(lines, synthetic([1.0, 2.0]), [(0.5, 4.0)])
    starts = word_starts(timed)
    assert len(starts) == 30 and starts == sorted(starts) and len(set(starts)) == 30


def test_no_path_falls_back_to_the_spread():
    lines = parse_lyrics("la " * 40, None)
    timed = align(lines, synthetic([0.05], duration_s=0.5), [])
    assert word_starts(timed) == word_starts(spread(lines, [], 0.5))


def test_long_songs_pool_frames(monkeypatch):
    monkeypatch.setattr(align_module, "MAX_CELLS", 5_000)
    lines = parse_lyrics(LYRICS, "en")
    timed = align(lines, synthetic(STARTS), [(0.5, 10.0)])
    assert np.allclose(word_starts(timed), STARTS, atol=0.1)


def test_spread_shares_the_singing_by_syllables():
    lines = parse_lyrics("one two\nthree four", "en")
    timed = spread(lines, [(10.0, 12.0), (20.0, 22.0)], 30.0)
    assert word_starts(timed) == [10.0, 11.0, 20.0, 21.0]
    assert timed[0].end == pytest.approx(12.0) and timed[1].end == pytest.approx(22.0)
    assert word_starts(spread(lines, [], 8.0)) == [0.0, 2.0, 4.0, 6.0]


def test_singing_mask():
    assert singing_mask([(0.02, 0.05)], 8, HOP).tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
