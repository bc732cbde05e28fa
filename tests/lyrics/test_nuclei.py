"""Syllable evidence of generated notes: onsets, activity, pitch; silence is never active."""

from __future__ import annotations

import numpy as np

from cantata.lyrics.nuclei import RATE, evidence

ONSETS = [0.5, 1.0, 1.5, 2.5, 3.0]


def test_candidates_at_the_note_onsets_and_activity_in_the_notes(sung):
    ev = evidence(sung(ONSETS), RATE)
    assert len(ev) == 400 and ev.duration_s == 4.0
    found = ev.candidates() * ev.hop_s
    for onset in ONSETS:
        assert np.min(np.abs(found - onset)) <= 0.04
    assert len(found) <= 2 * len(ONSETS)
    assert ev.activity[60:75].min() > 0.9 and ev.activity[200:240].max() < 0.1
    pitch = ev.pitch[55:75]
    assert np.nanmedian(pitch) == np.float64(np.nanmedian(pitch))
    assert abs(np.nanmedian(pitch) - 57.0) < 0.3  # 220 Hz = MIDI 57


def test_silence_has_no_activity():
    ev = evidence(np.zeros(RATE, np.float32), RATE)
    assert not ev.activity.any() and np.isnan(ev.pitch).all()
