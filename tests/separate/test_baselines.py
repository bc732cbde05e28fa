"""Classical separators: call shape, exact lengths, and the oracle beating the mixture."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.errors import ShapeError
from cantata.separate.baselines import (
    BASELINES,
    half_mixture,
    hpss_baseline,
    mixture_baseline,
    oracle_irm,
    repet_sim,
)
from cantata.separate.metrics import bss_eval, frame_median, si_sdr

RATE = 8000


def song(seconds: float = 4.0, *, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A gliding, vibrato 'voice' over a repeating bar of clicks and a bass note, each with
    a faint noise floor; (channels, time) each."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = 300 + 80 * t + 15 * np.sin(2 * np.pi * 5 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(t * 3))
    bar = np.zeros(RATE // 2)
    bar[:200] = rng.standard_normal(200) * np.exp(-np.arange(200) / 40)
    backing = np.tile(bar, int(seconds * 2) + 1)[: len(t)] + 0.5 * np.sin(2 * np.pi * 110 * t)
    voice, backing = voice / voice.std(), backing / backing.std()
    air = 0.01 * rng.standard_normal((2, channels, len(t)))  # channels not exact copies
    return voice + air[0], backing + air[1]


def vocal_sdr(vocals: np.ndarray, accompaniment: np.ndarray, est: dict) -> float:
    refs = np.stack([vocals.T, accompaniment.T])
    ests = np.stack([est["vocals"].T, est["accompaniment"].T])
    return float(frame_median(bss_eval(refs, ests, RATE, filter_len=128).sdr)[0])


@pytest.mark.parametrize("name", list(BASELINES))
@pytest.mark.parametrize("shape", [(1, 12345), (2, 9999)])
def test_every_baseline_keeps_shape_and_length(name: str, shape: tuple[int, int]) -> None:
    if name in ("HPSS", "REPET-SIM"):
        pytest.importorskip("librosa")
    mix = np.random.default_rng(1).standard_normal(shape).astype(np.float32) * 0.1
    out = BASELINES[name](mix, RATE)
    assert set(out) == {"vocals", "accompaniment"}
    for stem in out.values():
        assert stem.shape == shape and stem.dtype == np.float32 and np.isfinite(stem).all()


def test_trivial_baselines() -> None:
    mix = np.linspace(-1, 1, 100, dtype=np.float32)  # 1-D is one channel
    assert np.array_equal(mixture_baseline(mix, RATE)["vocals"], mix[None])
    assert np.array_equal(half_mixture(mix, RATE)["accompaniment"], 0.5 * mix[None])
    with pytest.raises(ShapeError):
        mixture_baseline(np.zeros((1, 2, 3)), RATE)


def test_oracle_irm_beats_the_mixture() -> None:
    vocals, accompaniment = song(2.0, channels=2)
    mix = vocals + accompaniment
    oracle = oracle_irm(mix, vocals, accompaniment, RATE, n_fft=512)
    assert oracle["vocals"].shape == mix.shape
    floor = vocal_sdr(vocals, accompaniment, mixture_baseline(mix, RATE))
    assert vocal_sdr(vocals, accompaniment, oracle) > floor + 10
    magnitude = oracle_irm(mix, vocals, accompaniment, RATE, n_fft=512, power=1.0)
    assert si_sdr(vocals.T[None], magnitude["vocals"].T[None])[0] > 10
    with pytest.raises(ShapeError):
        oracle_irm(mix, vocals[:1], accompaniment, RATE)


def test_hpss_masks_sum_to_the_mixture() -> None:
    pytest.importorskip("librosa")
    vocals, accompaniment = song(2.0)
    mix = vocals + accompaniment
    out = hpss_baseline(mix, RATE)
    np.testing.assert_allclose(out["vocals"] + out["accompaniment"], mix, atol=1e-3)


def test_repet_sim_finds_the_repeating_backing() -> None:
    pytest.importorskip("librosa")
    vocals, accompaniment = song(4.0)
    mix = vocals + accompaniment
    out = repet_sim(mix, RATE, width_s=0.4)
    floor = vocal_sdr(vocals, accompaniment, mixture_baseline(mix, RATE))
    assert vocal_sdr(vocals, accompaniment, out) > floor + 1
