"""Generation by retrieval: choosing pieces, joining them, continuing a seed."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from cantata.embed.api import Embedder
from cantata.embed.generate import (
    SegmentPool,
    choose_pieces,
    continue_audio,
    crossfade_join,
    onset_near,
)
from cantata.errors import CantataError
from cantata.models.continuer import Continuer, ContinuerConfig
from cantata.testing import noise
from cantata.types import Waveform


def pool_of(vectors, track_ids, starts, segment_s=1.0, paths=None):
    return SegmentPool(np.asarray(track_ids), np.asarray(starts, float),
                       np.asarray(vectors, np.float32),
                       paths or {int(t): f"/t{t}.wav" for t in set(track_ids)}, segment_s)


def test_nearest_segments_are_chosen_and_runs_continue_in_their_track():
    # track 1 has segments at 0, 1, 2 s; track 2 one segment near the second prediction
    vectors = [[0, 0], [1, 0], [2, 0], [1.0, 0.5]]
    pool = pool_of(vectors, [1, 1, 1, 2], [0, 1, 2, 0])
    predicted = np.array([[0, 0], [1.0, 0.6], [2, 0]], np.float32)
    # step 2: track 2 is nearest (0.1), track 1's next segment 0.6 away: within the cost
    pieces = choose_pieces(predicted, pool, switch_cost=1.0)
    assert [(p.track_id, p.start_s) for p in pieces] == [(1, 0.0), (1, 1.0), (1, 2.0)]
    nearest = choose_pieces(predicted, pool, switch_cost=0.0)
    assert [(p.track_id, p.start_s) for p in nearest] == [(1, 0.0), (2, 0.0), (1, 2.0)]
    assert nearest[1].distance == pytest.approx(0.1, abs=1e-6)
    with pytest.raises(CantataError, match="no embeddings"):
        choose_pieces(np.zeros((1, 2), np.float32), pool_of(np.zeros((0, 2)), [], []))


def test_a_segment_is_not_reused_in_a_row():
    pool = pool_of([[0, 0], [5, 5]], [1, 2], [0, 0])
    pieces = choose_pieces(np.zeros((3, 2), np.float32), pool)
    assert [p.track_id for p in pieces] == [1, 2, 1]


def test_crossfades_keep_length_and_level():
    parts = [np.ones((2, 1000), np.float32) * 0.5 for _ in range(3)]
    joined = crossfade_join(parts, 100)
    assert joined.shape == (2, 3000 - 2 * 100)
    assert np.allclose(joined[:, :900], 0.5) and np.abs(joined).max() <= 0.5 * np.sqrt(2)


def test_onsets_are_found_near_the_nominal_point():
    rate = 16000
    x = np.zeros(rate * 2, np.float32)
    x[int(1.2 * rate):] = noise(duration_s=0.8, sample_rate=rate).samples[0]
    at = onset_near(x, rate, int(1.0 * rate))
    assert abs(at - 1.2 * rate) < 600
    assert onset_near(np.zeros(rate, np.float32), rate, 8000) == 8000


def test_continue_renders_seed_plus_pieces(tmp_path):
    embedder = Embedder.from_pretrained("debug")  # 3 s segments
    rate = 22050
    paths, vectors, ids, starts = {}, [], [], []
    for t in range(3):
        wav = noise(duration_s=9.0, sample_rate=rate, n_channels=2, seed=t)
        path = tmp_path / f"t{t}.wav"
        sf.write(str(path), wav.samples.T, rate)
        found = embedder.embed_segments(wav)
        paths[t] = str(path)
        vectors.append(found.vectors)
        ids += [t] * len(found)
        starts += list(found.starts_s)
    pool = pool_of(np.concatenate(vectors), ids, starts, segment_s=3.0, paths=paths)
    torch.manual_seed(0)
    continuer = Continuer(ContinuerConfig(dim=embedder.dim, hidden=8, layers=1)).eval()
    seed = Waveform(noise(duration_s=4.0, sample_rate=rate, seed=9).samples, rate)
    result = continue_audio(seed, pool=pool, embedder=embedder, continuer=continuer,
                            seconds=7.0, sample_rate=rate)
    assert len(result.pieces) == 3  # 7 s in 3 s segments
    assert result.seed_s == pytest.approx(4.0)
    assert result.audio.n_channels == 2 and result.audio.sample_rate == rate
    assert result.audio.duration_s == pytest.approx(4.0 + 9.0, abs=0.01)  # seed + 3 pieces
    assert np.isfinite(result.audio.samples).all()
    alone = continue_audio(seed, pool=pool, embedder=embedder, continuer=continuer,
                           seconds=3.0, include_seed=False, sample_rate=rate)
    assert alone.seed_s == 0 and alone.audio.duration_s == pytest.approx(3.06, abs=0.01)
    with pytest.raises(CantataError, match="needs at least 3 s"):
        continue_audio(Waveform(seed.samples[:, :rate], rate), pool=pool, embedder=embedder,
                       continuer=continuer, seconds=3.0)
