"""The tagging API: chunks pooled over a song, thresholds from the checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

import cantata
from cantata.errors import ModelLoadError
from cantata.models.registry import save_checkpoint
from cantata.models.tagger import debug_tagger
from cantata.tag import Tagger
from cantata.tag.postprocess import DEFAULT_THRESHOLD
from cantata.testing import noise


def test_song_scores_pool_every_chunk():
    tagger = Tagger.from_pretrained("debug")
    wav = noise(duration_s=3.5, sample_rate=22050, n_channels=2, seed=1)
    found = tagger.tag(wav)
    assert found.tags == ("tone", "noise", "beat") and found.model == "debug"
    assert found.starts_s.tolist() == pytest.approx([0.0, 1.0, 2.0, 2.5], abs=0.02)
    assert np.allclose(found.scores, found.chunk_scores.mean(axis=0))
    assert found.thresholds.tolist() == [DEFAULT_THRESHOLD] * 3
    assert found.duration_s == pytest.approx(3.5)
    # chunks run alone give what the batches gave
    features, _ = tagger.features_of(wav)
    frames = tagger.config.chunk_frames
    with torch.inference_mode():
        alone = torch.sigmoid(tagger.model(features[None, :, :frames]))[0].numpy()
    assert np.allclose(alone, found.chunk_scores[0], atol=1e-5)


def test_short_recording_is_one_chunk_and_arrays_take_a_rate(tmp_path):
    y = noise(duration_s=0.4, sample_rate=16000, seed=2).samples[0]
    found = cantata.tag(y, sr=16000, model="debug")
    assert len(found.chunk_scores) == 1
    path = tmp_path / "x.wav"
    sf.write(str(path), y, 16000)
    assert np.allclose(cantata.tag(str(path), model="debug").scores, found.scores)


def test_checkpoint_thresholds_and_wrong_checkpoints(tmp_path):
    net = debug_tagger()
    path = save_checkpoint(tmp_path / "t.pt", net, name="tagger", config=net.config,
                           meta={"thresholds": {"beat": 0.25}, "pooling": "max"})
    tagger = Tagger.from_pretrained(path)
    assert tagger.thresholds.tolist() == [0.5, 0.5, 0.25] and tagger.pooling == "max"
    assert tagger.model_version.startswith("t-")
    bad = save_checkpoint(tmp_path / "bad.pt", net, name="tagger", config=net.config,
                          meta={"thresholds": {"jazz": 0.25}})
    with pytest.raises(ModelLoadError, match="unknown tag"):
        Tagger.from_pretrained(bad)
    assert Tagger.from_pretrained().name == "tagger"  # the shipped one by default
    with pytest.raises(ModelLoadError, match="available: tagger, debug"):
        Tagger.from_pretrained("nope")
