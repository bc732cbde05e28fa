"""Music tracks for the embedder: MIR-1K songs, instrumentals, synthetic songs, the cache,
the held-out split, adjacent pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cantata.embed import data
from cantata.embed.data import AdjacentPairs, FixedPairs, Track, music_tracks, split_tracks
from cantata.errors import ConfigError
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.testing.music import SINGERS, write_music_library

FEATURES = FeatureConfig(kind="logmel", sample_rate=16000, n_fft=512, hop_length=320, n_mels=16,
                         n_mfcc=13)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return write_music_library(tmp_path_factory.mktemp("music"))


@pytest.fixture(scope="module")
def tracks(library, tmp_path_factory):
    return music_tracks(mir1k=library["mir1k"], instrumentals=library["instrumentals"],
                        songs=library["songs"], features=FEATURES,
                        cache=tmp_path_factory.mktemp("cache"))


def test_tracks_of_each_collection(tracks):
    ids = [t.id for t in tracks]
    assert ids[:5] == [f"mir1k/{s}_1" for s in SINGERS]
    assert ids[5:8] == [f"instrumentals/instrumentals/theme{i}" for i in range(3)]  # no sting
    assert ids[8:] == ["synth/songs/song-000000", "synth/songs/song-000001"]
    amy = tracks[0]
    assert amy.group == "mir1k" and amy.singer == "amy" and amy.has_vocals
    assert tracks[5].group == "instrumentals" and not tracks[5].has_vocals
    assert tracks[5].singer is None
    assert tracks[8].group == "synth" and tracks[8].has_vocals
    for t in tracks:
        assert t.features.dtype == np.float16 and t.features.shape[0] == 16
    assert amy.n_frames == FEATURES.n_frames(2 * 4 * 16000)  # both clips, in order


def test_waveform_rebuilds_the_features(tracks):
    extractor = FeatureExtractor(FEATURES)
    for track in (tracks[0], tracks[5], tracks[8]):
        wav = track.waveform()
        assert wav.sample_rate == 16000 and wav.n_channels == 1
        again = extractor(torch.from_numpy(wav.samples[0])).numpy()
        np.testing.assert_allclose(again, track.features.astype(np.float32), atol=0.1)


def test_mir1k_clips_mixed_at_0_db_in_clip_order(tracks, library):
    import soundfile as sf

    wav = tracks[1].waveform().samples[0]  # bob
    first = wav[: 4 * 16000]
    vocals, _ = sf.read(library["mir1k"] / "bob_1_01" / "vocals.wav", dtype="float32")
    backing, _ = sf.read(library["mir1k"] / "bob_1_01" / "accompaniment.wav", dtype="float32")
    gain = np.sqrt(np.mean(backing**2) / np.mean(vocals**2))
    np.testing.assert_allclose(first, backing + gain * vocals, atol=1e-4)
    second, _ = sf.read(library["mir1k"] / "bob_1_02" / "accompaniment.wav", dtype="float32")
    assert np.corrcoef(wav[4 * 16000:], second)[0, 1] > 0.5


def test_features_are_cached_once(library, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = music_tracks(instrumentals=[library["instrumentals"]], features=FEATURES,
                         cache=cache)
    assert len(list(cache.glob("*.npy"))) == 3

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(data, "_track_audio", no_decoding)
    again = music_tracks(instrumentals=library["instrumentals"], features=FEATURES, cache=cache)
    np.testing.assert_array_equal(again[0].features, first[0].features)
    with pytest.raises(AssertionError):  # another feature config is another key
        music_tracks(instrumentals=library["instrumentals"], cache=cache,
                     features=FeatureConfig(kind="mfcc", n_fft=512, hop_length=320, n_mels=16,
                                            n_mfcc=8))


def test_no_source_is_an_error():
    with pytest.raises(ConfigError, match="no music"):
        music_tracks(features=FEATURES)


def fake(track_id: str, n_frames: int, *, group: str = "g", singer: str | None = None) -> Track:
    feats = np.tile(np.arange(n_frames, dtype=np.float16), (2, 1))  # frame t holds t
    return Track(track_id, group, feats, singer is not None, singer)


def test_split_holds_out_whole_singers_and_tracks_deterministically():
    tracks = [fake(f"mir1k/s{i}_{k}", 10, group="mir1k", singer=f"s{i}")
              for i in range(10) for k in range(3)]
    tracks += [fake(f"game/{k}", 10, group="game") for k in range(20)]
    tracks += [fake("lonely/0", 10, group="lonely")]
    kept, held = split_tracks(tracks, held_out=0.2, seed=0)
    assert split_tracks(tracks, held_out=0.2, seed=0) == (kept, held)
    assert {t.id for t in kept} | {t.id for t in held} == {t.id for t in tracks}
    assert not {t.id for t in kept} & {t.id for t in held}
    held_singers = {t.singer for t in held if t.singer}
    assert len(held_singers) == 2
    assert not held_singers & {t.singer for t in kept if t.singer}  # whole singers
    assert sum(t.group == "game" for t in held) == 4
    assert all(t.group != "lonely" for t in held)  # a group of one stays
    assert split_tracks(tracks, held_out=0.2, seed=1) != (kept, held)


def test_adjacent_pairs_positive_follows_the_anchor():
    tracks = [fake("a", 1000), fake("b", 250)]
    pairs = AdjacentPairs(tracks, segment_frames=50, max_gap_frames=20, length=400, seed=3)
    counts = [0, 0]
    for i in range(len(pairs)):
        anchor, positive, k = pairs[i]
        assert anchor.shape == positive.shape == (2, 50) and anchor.dtype == torch.float32
        anchor_end = int(anchor[0, -1]) + 1
        gap = int(positive[0, 0]) - anchor_end
        assert 0 <= gap <= 20
        assert torch.equal(anchor[0], torch.arange(anchor_end - 50, anchor_end).float())
        counts[k] += 1
    assert 0.7 < counts[0] / 400 < 0.9  # in proportion to length (0.8)
    first = [pairs[i][0] for i in range(5)]
    assert all(torch.equal(a, pairs[i][0]) for i, a in enumerate(first))  # deterministic
    pairs.set_epoch(1)
    assert not all(torch.equal(a, pairs[i][0]) for i, a in enumerate(first))


def test_short_tracks_shrink_the_gap_or_are_left_out():
    pairs = AdjacentPairs([fake("short", 105), fake("tiny", 60)], segment_frames=50,
                          max_gap_frames=20, length=20)
    assert [t.id for t in pairs.tracks] == ["short"]
    for i in range(20):
        anchor, positive, _ = pairs[i]
        assert 0 <= int(positive[0, 0]) - int(anchor[0, -1]) - 1 <= 5


def test_gain_augmentation_shifts_the_level():
    pairs = AdjacentPairs([fake("a", 500)], segment_frames=50, max_gap_frames=0, length=50,
                          gain_db=6.0, features=FEATURES)
    offsets = []
    for i in range(50):
        anchor, positive, _ = pairs[i]
        offsets.append(float(positive[0, 0] - anchor[0, -1] - 1))
    assert max(np.abs(offsets)) <= 12.0 and np.std(offsets) > 1.0


def test_fixed_pairs_are_fixed_and_capped():
    tracks = [fake("a", 1000), fake("b", 400), fake("c", 90)]
    val = FixedPairs(tracks, segment_frames=50, max_gap_frames=20, seed=0)
    again = FixedPairs(tracks, segment_frames=50, max_gap_frames=20, seed=0)
    assert val.pairs == again.pairs and {k for k, _, _ in val.pairs} == {0, 1}
    for i in range(len(val)):
        anchor, positive, _ = val[i]
        assert 0 <= int(positive[0, 0]) - int(anchor[0, -1]) - 1 <= 20
    capped = FixedPairs(tracks, segment_frames=50, max_gap_frames=20, max_pairs=5)
    assert len(capped) == 5 and capped.pairs[0] == val.pairs[0]
