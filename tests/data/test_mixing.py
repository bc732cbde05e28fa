"""On-the-fly mixing: parameters, determinism, levels, labels, augmentation, workers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from cantata.data.augment import pitch_tempo, reverberate, room_response
from cantata.data.mixing import DynamicMixDataset, MixConfig, MixPool, apply, draw_params
from cantata.data.records import Example
from cantata.errors import ConfigError
from cantata.testing import noise, sine

RATE = 8000
PLAIN = MixConfig(segment_s=0.5, sample_rate=RATE, p_pitch_tempo=0.0, p_vocal_only=0.0,
                  p_accompaniment_only=0.0)


def write_song(root: Path, name: str, *, group: str, duration_s: float = 1.0,
               vocals: np.ndarray | None = None, n_channels: int = 1, seed: int = 0) -> Example:
    """A song as two stem files: vocals (a sine, or ``vocals``) and noise accompaniment."""
    folder = root / name
    folder.mkdir(parents=True)
    if vocals is None:
        vocals = sine(300 + 100 * seed, duration_s=duration_s, sample_rate=RATE,
                      amplitude=0.1 + 0.1 * seed).samples
    backing = noise(duration_s=duration_s, sample_rate=RATE, n_channels=n_channels, seed=seed)
    sf.write(folder / "vocals.wav", vocals.T, RATE, subtype="FLOAT")
    sf.write(folder / "accompaniment.wav", backing.samples.T, RATE, subtype="FLOAT")
    return Example(id=name, audio=None, stems={"vocals": str(folder / "vocals.wav"),
                                               "accompaniment": str(folder / "accompaniment.wav")},
                   duration_s=duration_s, sample_rate=RATE, group=group)


@pytest.fixture
def songs(tmp_path) -> list[Example]:
    return [write_song(tmp_path, f"song{k}", group=f"singer{k % 3}", seed=k) for k in range(4)]


def fake_songs(n: int, n_groups: int) -> list[Example]:
    """Examples that are never decoded: enough to draw parameters."""
    return [Example(id=f"s{k}", audio=None, stems={"vocals": "v.wav", "accompaniment": "a.wav"},
                    duration_s=10.0, group=f"g{k % n_groups}") for k in range(n)]


def test_shapes_and_mixture_is_the_sum(songs):
    config = replace(PLAIN, p_pitch_tempo=0.5, p_vocal_only=0.2, p_accompaniment_only=0.2)
    dataset = DynamicMixDataset(songs, config, length=6, seed=3)
    assert len(dataset) == 6
    for i in range(len(dataset)):
        item = dataset[i]
        for key in ("mixture", "vocals", "accompaniment"):
            assert item[key].shape == (1, 4000) and item[key].dtype == torch.float32
        assert item["labels"].shape == (3, config.n_frames) == (3, 25)
        assert set(item["labels"].unique().tolist()) <= {0.0, 1.0}
        assert int(item["index"]) == i
        torch.testing.assert_close(item["mixture"], item["vocals"] + item["accompaniment"],
                                   atol=1e-6, rtol=0)


def test_deterministic_in_seed_epoch_index(songs):
    dataset = DynamicMixDataset(songs, PLAIN, length=4, seed=7)
    again = DynamicMixDataset(songs, PLAIN, length=4, seed=7)
    first = [dataset[i]["mixture"] for i in range(4)]
    assert all(torch.equal(a, again[i]["mixture"]) for i, a in enumerate(first))
    assert all(torch.equal(a, dataset[i]["mixture"]) for i, a in enumerate(first))
    dataset.set_epoch(1)
    assert not any(torch.equal(a, dataset[i]["mixture"]) for i, a in enumerate(first))
    other_seed = DynamicMixDataset(songs, PLAIN, length=4, seed=8)
    assert not torch.equal(first[0], other_seed[0]["mixture"])


def test_snr_within_range(songs):
    dataset = DynamicMixDataset(songs, replace(PLAIN, snr_db=(-5.0, 5.0)), length=12, seed=1)
    ratios = []
    for i in range(len(dataset)):
        item = dataset[i]
        vocal_power = item["vocals"].double().pow(2).mean()
        backing_power = item["accompaniment"].double().pow(2).mean()
        ratios.append(float(10 * torch.log10(vocal_power / backing_power)))
        assert item["mixture"].abs().max() <= 1.0 + 1e-6
    assert min(ratios) >= -5.0 - 1e-3 and max(ratios) <= 5.0 + 1e-3
    assert max(ratios) - min(ratios) > 2.0


def test_labels_follow_the_clean_stems(tmp_path):
    vocals = sine(440, duration_s=1.0, sample_rate=RATE, amplitude=0.3).samples.copy()
    vocals[:, RATE // 2:] = 0
    song = write_song(tmp_path, "half", group="x", vocals=vocals)
    config = replace(PLAIN, segment_s=1.0, p_mismatch=0.0)
    labels = DynamicMixDataset([song], config, length=1)[0]["labels"].numpy()
    vocal, backing, silence = labels
    assert vocal[:20].all() and not vocal[28:].any()
    assert backing.all() and not silence.any()
    instrumental = replace(config, p_accompaniment_only=1.0)
    labels = DynamicMixDataset([song], instrumental, length=1)[0]["labels"].numpy()
    assert not labels[0].any() and labels[1].all()


def test_mismatch_probability_and_groups():
    pool = MixPool(fake_songs(12, n_groups=4))
    config = MixConfig(p_mismatch=0.5)
    draws = [draw_params(np.random.default_rng([0, 0, i]), pool, config) for i in range(200)]
    share = np.mean([p.mismatch for p in draws])
    assert 0.38 < share < 0.62
    for p in draws:
        vocal, backing = pool.vocals[p.vocals.index], pool.accompaniments[p.accompaniment.index]
        if p.mismatch:
            assert vocal.group != backing.group
        else:
            assert vocal.id == backing.id and p.vocals.offset_s == p.accompaniment.offset_s
    never = [draw_params(np.random.default_rng(i), pool, replace(config, p_mismatch=0.0))
             for i in range(50)]
    assert not any(p.mismatch for p in never)


def test_instrumental_pool_is_always_mismatched():
    instrumentals = [Example(id=f"i{k}", audio="loop.ogg", duration_s=5.0, group="game",
                             meta={"vocal_free": True}) for k in range(3)]
    vocals_only = [Example(id="v", audio=None, stems={"vocals": "v.wav"}, duration_s=5.0,
                           group="g")]
    pool = MixPool(vocals_only, instrumentals)
    draws = [draw_params(np.random.default_rng(i), pool, MixConfig(p_mismatch=0.0))
             for i in range(20)]
    assert all(p.mismatch for p in draws)
    with pytest.raises(ConfigError, match="accompaniment"):
        MixPool(vocals_only)


def test_channel_swap_on_stereo(tmp_path):
    left = sine(300, duration_s=1.0, sample_rate=RATE).samples[0]
    right = sine(900, duration_s=1.0, sample_rate=RATE, amplitude=0.2).samples[0]
    song = write_song(tmp_path, "stereo", group="x", vocals=np.stack([left, right]),
                      n_channels=2)
    config = replace(PLAIN, n_channels=2, p_swap_channels=1.0)
    pool = MixPool([song])
    params = draw_params(np.random.default_rng(0), pool, config)
    assert params.swap_channels
    swapped = apply(params, pool, config)
    plain = apply(replace(params, swap_channels=False), pool, config)
    assert swapped["vocals"].shape == (2, 4000)
    np.testing.assert_allclose(swapped["vocals"], plain["vocals"][::-1], atol=1e-7)
    np.testing.assert_allclose(swapped["accompaniment"], plain["accompaniment"][::-1], atol=1e-7)


def test_pitch_tempo_keeps_the_length(songs):
    config = replace(PLAIN, p_pitch_tempo=1.0, tempo_ratio=(0.8, 0.8))
    dataset = DynamicMixDataset(songs, config, length=2)
    params = dataset.draw(0)
    assert params.vocals.shifted and params.vocals.tempo == pytest.approx(0.8)
    assert dataset[0]["vocals"].shape == (1, config.n_samples)
    x = sine(440, duration_s=1.0, sample_rate=RATE).samples
    assert pitch_tempo(x, RATE, semitones=1.0, tempo=0.8).shape[1] == pytest.approx(10000, abs=50)


def test_dataloader_workers_match_single_process(songs):
    dataset = DynamicMixDataset(songs, PLAIN, length=8, seed=5)
    single = list(torch.utils.data.DataLoader(dataset, batch_size=4))
    workers = list(torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=2))
    for a, b in zip(single, workers, strict=True):
        assert a.keys() == b.keys()
        assert all(torch.equal(a[key], b[key]) for key in a)


@pytest.mark.parametrize("field, value", [("n_channels", 3), ("p_mismatch", 1.5),
                                          ("snr_db", (5.0, -5.0)), ("gain_db", (-3.0, 3.0))])
def test_bad_config(field, value):
    with pytest.raises(ConfigError, match=field):
        MixConfig(**{field: value})


def test_room_response_decays_at_the_drawn_level():
    rate = 8000
    response = room_response(np.random.default_rng(0), rate, 2, rt60_s=0.5, drr_db=6.0,
                             predelay_s=0.01, damping_hz=2000.0)
    assert response.shape == (2, 80 + 4000) and response.dtype == np.float32
    assert (response[:, 0] == 1.0).all() and not response[:, 1:80].any()
    tail = response[:, 80:].astype(np.float64)
    np.testing.assert_allclose(10 * np.log10(np.mean(np.sum(tail**2, axis=1))), -6.0, atol=1e-3)
    first, last = (np.mean(tail[:, k * 400: (k + 1) * 400] ** 2) for k in (0, 9))
    assert 10 * np.log10(first / last) > 40  # about 60 dB over 0.45 s of 0.5
    assert abs(np.corrcoef(tail[0], tail[1])[0, 1]) < 0.2  # a stereo room: its own tails


def test_reverb_makes_wet_vocals_the_target(songs):
    config = replace(PLAIN, p_reverb=1.0, reverb_rt60_s=(0.3, 0.3), reverb_drr_db=(0.0, 0.0))
    dataset = DynamicMixDataset(songs, config, length=3, seed=2)
    pool = dataset.pool
    for i in range(3):
        params = dataset.draw(i)
        assert params.room is not None and params.room.rt60_s == pytest.approx(0.3)
        wet, dry = apply(params, pool, config), apply(replace(params, room=None), pool, config)
        np.testing.assert_allclose(wet["mixture"], wet["vocals"] + wet["accompaniment"],
                                   atol=1e-6)
        np.testing.assert_array_equal(wet["accompaniment"] > 0, dry["accompaniment"] > 0)
        assert not np.allclose(wet["vocals"], dry["vocals"], atol=1e-3)
        np.testing.assert_array_equal(dataset[i]["vocals"].numpy(), wet["vocals"])
    x = np.zeros((1, 100), np.float32)
    x[0, 10] = 1.0
    np.testing.assert_allclose(reverberate(x, np.array([[1.0, 0.5]], np.float32))[0, 10:12],
                               [1.0, 0.5])


def test_no_reverb_leaves_every_draw_as_it_was():
    pool = MixPool(fake_songs(6, n_groups=3))
    dry = [draw_params(np.random.default_rng([0, 0, i]), pool, MixConfig()) for i in range(20)]
    assert all(p.room is None for p in dry)
    wet = [draw_params(np.random.default_rng([0, 0, i]), pool, MixConfig(p_reverb=0.5))
           for i in range(20)]
    assert [replace(p, room=None) for p in wet] == dry
    assert 0 < sum(p.room is not None for p in wet) < 20
    with pytest.raises(ConfigError, match="p_reverb"):
        MixConfig(p_reverb=1.5)
