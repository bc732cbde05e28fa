"""The studio production chain: vocal chain, mastering gain, codec, and produced mixes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_mixing import PLAIN, write_song

from cantata.audio.loudness import integrated_loudness
from cantata.data.mixing import DynamicMixDataset, MixConfig
from cantata.data.production import (
    compressor_gain,
    deess,
    draw_production,
    limiter_gain,
    master,
    mp3_round_trip,
    pan,
    produce_vocals,
)
from cantata.types import Waveform

RATE = 16000


@pytest.fixture
def songs(tmp_path):
    return [write_song(tmp_path, f"song{k}", group=f"singer{k % 3}", seed=k) for k in range(4)]


def tone(seconds: float = 2.0, freq: float = 220.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    gate = (np.sin(2 * np.pi * 0.75 * t) > -0.3)  # phrases with rests
    return (amplitude * np.sin(2 * np.pi * freq * t) * gate)[None].astype(np.float32)


def test_draws_are_deterministic_and_in_range():
    a, b = (draw_production(np.random.default_rng(5)) for _ in range(2))
    assert a == b
    for seed in range(50):
        p = draw_production(np.random.default_rng(seed))
        assert -14 <= p.mastering.loudness_lufs <= -7 and p.mastering.ceiling_dbfs < 0
        assert -0.25 <= p.vocals.pan <= 0.25
    codecs = [draw_production(np.random.default_rng(s), p_codec=0.0).mastering.codec_quality
              for s in range(20)]
    assert codecs == [None] * 20


@pytest.mark.parametrize("n_channels", [1, 2])
def test_vocal_chain_keeps_length_and_adds_layers(n_channels):
    dry = tone()
    chain = draw_production(np.random.default_rng(1)).vocals
    full = replace(chain, double_db=-4.0, harmony_db=-8.0, reverb_db=-8.0, delay_db=-10.0)
    out = produce_vocals(dry, RATE, full, n_channels)
    assert out.shape == (n_channels, dry.shape[1]) and out.dtype == np.float32
    assert np.isfinite(out).all()
    bare = replace(chain, double_db=None, harmony_db=None, reverb_db=None, delay_db=None)
    plain = produce_vocals(dry, RATE, bare, n_channels)
    rests = np.abs(dry[0]) == 0  # the sends and layers sound where the lead rests
    assert np.abs(out[:, rests]).mean() > 2 * np.abs(plain[:, rests]).mean()


def test_pan_is_constant_power_and_centred_at_zero():
    x = np.ones(4, np.float32)
    centre = pan(x, 0.0, 2)
    np.testing.assert_allclose(centre[0], centre[1])
    for position in (-1.0, -0.3, 0.5, 1.0):
        np.testing.assert_allclose(np.sum(pan(x, position, 2) ** 2, axis=0), 2.0, rtol=1e-5)
    np.testing.assert_array_equal(pan(x, 0.7, 1), x[None])


def test_compressor_reduces_the_loud_part_more():
    quiet_loud = np.concatenate([tone(1.0, amplitude=0.02), tone(1.0, amplitude=0.5)], axis=1)
    gain = compressor_gain(quiet_loud, RATE, threshold_db=-30.0, ratio=4.0,
                           attack_s=0.005, release_s=0.05)
    assert gain.shape == (quiet_loud.shape[1],)
    assert np.median(gain[: RATE // 2]) > 2 * np.median(gain[-RATE // 2:])


def test_limiter_never_exceeds_its_ceiling():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, RATE)) * 0.5).astype(np.float32)
    gain = limiter_gain(x, RATE, ceiling_dbfs=-1.0)
    assert np.max(np.abs(x * gain)) <= 10 ** (-1 / 20) + 1e-6
    assert gain.max() <= 1.0 and gain.min() > 0


def test_deesser_leaves_low_sounds_alone():
    t = np.arange(RATE) / RATE
    low = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    np.testing.assert_allclose(deess(low, RATE, 8.0), low, atol=2e-3)
    rng = np.random.default_rng(1)
    hiss = (rng.standard_normal(RATE) * 0.2).astype(np.float32)
    assert np.mean(deess(hiss, RATE, 8.0) ** 2) < np.mean(hiss ** 2)


def test_mastering_gain_is_shared_by_the_stems():
    rng = np.random.default_rng(2)
    vocals = tone(3.0)
    backing = (rng.standard_normal((1, vocals.shape[1])) * 0.1).astype(np.float32)
    p = replace(draw_production(rng).mastering, codec_quality=None, loudness_lufs=-9.0)
    mixture, v, a = master(vocals, backing, RATE, p)
    np.testing.assert_allclose(mixture, v + a, atol=1e-6)
    assert np.max(np.abs(mixture)) <= 10 ** (p.ceiling_dbfs / 20) + 1e-6
    assert abs(integrated_loudness(Waveform(mixture, RATE)) - p.loudness_lufs) < 3.0
    ratio = v[0, 1000:-1000] / np.where(vocals[0, 1000:-1000] == 0, np.nan,
                                        vocals[0, 1000:-1000])
    assert np.nanstd(ratio) > 0  # a time-varying gain, the same for both stems
    np.testing.assert_allclose(v[0] * backing[0], a[0] * vocals[0], atol=1e-6)


def test_mp3_round_trip_keeps_shape_and_alignment():
    x = tone(2.0, freq=440.0)
    y = mp3_round_trip(x, RATE, 4.0)
    assert y.shape == x.shape and y.dtype == np.float32
    corr = np.correlate(y[0, 4000:12000], x[0, 4000:12000], "full")
    assert abs(int(np.argmax(corr)) - (8000 - 1)) <= 2
    assert np.mean((y - x) ** 2) < 0.1 * np.mean(x ** 2)


def test_produced_mixes_through_the_dataset(songs):
    config = replace(PLAIN, p_production=1.0, p_codec=0.0)
    dataset = DynamicMixDataset(songs, config, length=4, seed=0)
    plain = DynamicMixDataset(songs, PLAIN, length=4, seed=0)
    for i in range(4):
        item = dataset[i]
        assert dataset.draw(i).production is not None
        assert item["mixture"].shape == (1, 4000)
        np.testing.assert_allclose(item["mixture"], item["vocals"] + item["accompaniment"],
                                   atol=1e-6)
        assert not np.allclose(item["mixture"], plain[i]["mixture"])
        assert float(item["mixture"].abs().max()) < 1.0
        # labels come from the dry stems, as without production
        np.testing.assert_array_equal(item["labels"], plain[i]["labels"])


def test_production_off_leaves_items_unchanged(songs):
    before = DynamicMixDataset(songs, PLAIN, length=3, seed=1)
    after = DynamicMixDataset(songs, replace(PLAIN, p_production=0.0, p_codec=0.9), length=3,
                              seed=1)
    for i in range(3):
        assert before.draw(i) == after.draw(i)
        np.testing.assert_array_equal(before[i]["mixture"], after[i]["mixture"])


def test_codec_touches_the_mixture_only(songs):
    dataset = DynamicMixDataset(songs, replace(PLAIN, p_production=1.0, p_codec=1.0),
                                length=2, seed=0)
    item = dataset[0]
    assert not np.allclose(item["mixture"], item["vocals"] + item["accompaniment"], atol=1e-4)


def test_config_checks_the_new_probabilities():
    from cantata.errors import ConfigError
    with pytest.raises(ConfigError, match="p_production"):
        MixConfig(p_production=1.5)
