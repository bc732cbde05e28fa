"""Lyrics heads fitted after training: from the labels' lyrics column or the .txt beside."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from cantata.errors import ConfigError
from cantata.models.registry import load_checkpoint, save_checkpoint
from cantata.models.tagger import debug_tagger
from cantata.tag import Tagger
from cantata.tag.calibration import attach_lyrics_heads
from cantata.tag.labels import read_labels
from cantata.testing import noise

NIGHT = "the moon and the stars at midnight, owls in the dark"
DAY = "the market, the kitchen, the bus and the garden at lunch"


class BagOfWords:
    """A fake text encoder: counts of a few words, plus a constant."""

    words = ("moon", "stars", "midnight", "market", "kitchen", "lunch")

    def embed(self, texts):
        return np.array([[t.lower().replace(",", " ").split().count(w) for w in self.words]
                         + [1.0] for t in texts], np.float32)


@pytest.fixture
def labelled(tmp_path):
    """12 recordings tagged `beat` exactly when their lyrics are about the night: half in
    the labels' lyrics column, half in a .txt beside the audio."""
    rows = []
    for i in range(12):
        path = tmp_path / f"s{i}.wav"
        sf.write(str(path), noise(duration_s=1.0, sample_rate=16000, seed=i).samples.T, 16000)
        night = i % 2 == 0
        row = {"path": path.name, "tags": ["beat", "tone"] if night else ["tone"],
               "artist": f"a{i}"}
        if i < 6:
            row["lyrics"] = NIGHT if night else DAY
        else:
            path.with_suffix(".txt").write_text(NIGHT if night else DAY)
        rows.append(row)
    (tmp_path / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_heads_learn_from_the_lyrics_column_and_the_txt(labelled):
    items = read_labels(labelled / "labels.jsonl").items
    assert items[0].lyrics == NIGHT and items[7].lyrics is None
    net = debug_tagger()
    path = save_checkpoint(labelled / "t.pt", net, name="tagger", config=net.config, meta={})
    record = attach_lyrics_heads(path, items, BagOfWords())
    assert record == {"recordings": 12, "tags": ["beat"]}  # tone: every recording has it
    _, checkpoint = load_checkpoint(path)
    tagger = Tagger.from_pretrained(path)
    assert tagger.lyrics_heads is not None and checkpoint.meta["lyrics"] == record
    text = tagger.lyrics_heads.scores(BagOfWords().embed([NIGHT, DAY]))
    assert text[0, 0] > 0.9 > 0.1 > text[1, 0]


def test_too_few_lyrics_is_a_clear_error(labelled):
    items = read_labels(labelled / "labels.jsonl").items[:4]
    net = debug_tagger()
    path = save_checkpoint(labelled / "t.pt", net, name="tagger", config=net.config, meta={})
    with pytest.raises(ConfigError, match="only 4 training recordings have lyrics"):
        attach_lyrics_heads(path, items, BagOfWords())
