"""Song section plans and the gating derived from them."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.data.synth.score import Note
from cantata.data.synth.structure import (
    Section,
    accompaniment_gain,
    plan_sections,
    sung_notes,
)


@pytest.mark.parametrize("seed", range(50))
def test_plans_tile_the_song_without_overlap(seed):
    sections = plan_sections(np.random.default_rng(seed), duration_s=30.0)
    assert sections[0].start_s == 0.0 and sections[-1].end_s == 30.0
    assert all(a.end_s == b.start_s for a, b in zip(sections, sections[1:], strict=False))
    assert any(s.kind == "verse" for s in sections)


def test_plans_vary_over_seeds():
    kinds = {s.kind for seed in range(40)
             for s in plan_sections(np.random.default_rng(seed), duration_s=30.0)}
    assert kinds == {"intro", "verse", "break", "a_cappella", "silence", "outro"}


def test_only_notes_inside_sung_sections_are_sung():
    sections = [Section("intro", 0, 2), Section("verse", 2, 6), Section("break", 6, 8)]
    melody = [Note(60, 1.0, 0.5), Note(62, 2.5, 0.5), Note(64, 5.8, 0.5), Note(65, 7.0, 0.5)]
    assert sung_notes(melody, sections) == [Note(62, 2.5, 0.5)]


def test_accompaniment_gain_follows_sections_with_short_fades():
    sections = [Section("verse", 0, 1), Section("a_cappella", 1, 2), Section("break", 2, 3)]
    gain = accompaniment_gain(sections, n_samples=3000, sample_rate=1000)
    assert gain[500] == pytest.approx(1) and gain[1500] == pytest.approx(0)
    assert gain[2500] == pytest.approx(1)
    assert 0 < gain[1000] < 1  # a fade, not a click
