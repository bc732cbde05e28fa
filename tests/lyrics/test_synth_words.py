"""The song factory's singing records when every word is sung (meta.voice.words)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from cantata.data.synth.score import Note
from cantata.data.synth.singing import sing

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng is not installed (Debian package espeak-ng)")


def test_words_are_the_notes_with_their_texts():
    notes = [Note(60, 0.5, 0.4, 0.8), Note(62, 0.95, 0.4, 0.8), Note(64, 2.0, 0.5, 0.8)]
    _, meta = sing(notes, np.random.default_rng(1), sample_rate=16000, language="en")
    words = meta["words"]
    assert [w[2] for w in words] == meta["lyrics"] and len(words) == 3
    assert [w[0] for w in words] == pytest.approx([0.5, 0.95, 2.0], abs=0.005)
    assert words[0][1] == pytest.approx(0.95, abs=0.005)  # legato: sung up to the next note
    assert words[2][1] == pytest.approx(2.5, abs=0.005)
