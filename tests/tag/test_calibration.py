"""Per-tag thresholds calibrated on validation recordings, written into the checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from cantata.models.registry import load_checkpoint, save_checkpoint
from cantata.models.tagger import debug_tagger
from cantata.tag import Tagger
from cantata.tag.calibration import calibrate, calibrate_checkpoint, song_scores
from cantata.tag.labels import TagItem
from cantata.testing import noise


def test_calibrate_finds_each_tags_f1_optimal_threshold():
    scores = np.array([[0.9, 0.2], [0.8, 0.3], [0.3, 0.1], [0.1, 0.4]])
    targets = np.array([[1, 0], [1, 0], [0, 0], [0, 1]], bool)
    thresholds, record = calibrate(scores, targets, ("a", "b"))
    assert thresholds["a"] == pytest.approx(0.55) and record["a"]["f1"] == 1.0
    assert record["a"]["roc_auc"] == 1.0 and record["a"]["positives"] == 2
    assert thresholds["b"] == pytest.approx(0.35) and record["b"]["precision"] == 1.0


def test_calibrate_checkpoint_writes_thresholds_the_api_reads(tmp_path):
    net = debug_tagger()
    path = save_checkpoint(tmp_path / "t.pt", net, name="tagger", config=net.config, meta={})
    items = []
    for i in range(4):
        audio = tmp_path / f"{i}.wav"
        sf.write(str(audio), noise(duration_s=1.5, sample_rate=16000, seed=i,
                                   amplitude=0.1 * (i + 1)).samples.T, 16000)
        items.append(TagItem(str(audio), frozenset({"tone"} if i % 2 else {"beat"}), "g", i))
    calibration = calibrate_checkpoint(path, items)
    _, checkpoint = load_checkpoint(path)
    assert calibration["recordings"] == 4 and set(calibration["tags"]) == {"tone", "noise", "beat"}
    assert checkpoint.meta["thresholds"] == {t: c["threshold"] for t, c in
                                             calibration["tags"].items()}
    tagger = Tagger.from_pretrained(path)
    scores, targets = song_scores(tagger, items)
    assert scores.shape == (4, 3) and targets[:, 0].tolist() == [False, True, False, True]
    assert tagger.thresholds.tolist() == [checkpoint.meta["thresholds"][t] for t in tagger.tags]
