"""Feature-domain augmentations: level shifts and simulated phone re-recordings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import signal

from cantata.embed.augment import Degradation, band_centres_hz, degrade_logmel
from cantata.embed.data import AdjacentPairs, Track
from cantata.errors import ConfigError
from cantata.features import FeatureConfig, FeatureExtractor

FEATURES = FeatureConfig(kind="logmel", sample_rate=16000, n_fft=512, hop_length=320, n_mels=40)
DRY = dict(decay_s=(0.0, 0.0), highpass_hz=(0.0, 0.0), noise_tilt=(0.0, 0.0))


def logmel(x: np.ndarray) -> np.ndarray:
    return FeatureExtractor(FEATURES)(torch.from_numpy(x.astype(np.float32))).numpy()


def test_the_microphone_filters_like_the_same_filter_on_the_waveform():
    noise = np.random.default_rng(0).standard_normal(3 * 16000)
    filtered = signal.sosfilt(signal.butter(4, 3000, fs=16000, output="sos"), noise)
    clean = logmel(noise)
    ranges = Degradation(snr_db=(80.0, 80.0), lowpass_hz=(3000.0, 3000.0), **DRY)
    simulated = degrade_logmel(clean, FEATURES, np.random.default_rng(1), ranges)
    truth = logmel(filtered)
    drop_sim, drop_true = (np.mean(y - clean, axis=1) for y in (simulated, truth))
    centres = band_centres_hz(FEATURES)
    audible = drop_true > -40  # far below, the real filter's output meets float precision
    assert np.abs(drop_sim - drop_true)[audible].max() < 3.0
    assert drop_sim[centres < 1500].max() > -0.5 and drop_sim[centres > 6000].max() < -30


def test_noise_is_added_at_the_snr():
    clean = logmel(np.random.default_rng(0).standard_normal(3 * 16000))
    ranges = Degradation(snr_db=(0.0, 0.0), lowpass_hz=(1e6, 1e6), **DRY)
    noisy = degrade_logmel(clean, FEATURES, np.random.default_rng(1), ranges)
    level = [10 * np.log10(np.mean(10 ** (y / 10))) for y in (clean, noisy)]
    assert level[1] - level[0] == pytest.approx(3.0, abs=0.3)  # as much noise as signal


def test_the_room_spreads_a_frame_over_the_next_ones_keeping_its_energy():
    x = np.full((FEATURES.n_mels, 40), -100.0, np.float32)
    x[:, 10] = 0.0
    ranges = Degradation(snr_db=(120.0, 120.0), lowpass_hz=(1e6, 1e6), highpass_hz=(0.0, 0.0),
                         decay_s=(0.1, 0.1), wet=(1.0, 1.0))
    y = degrade_logmel(x, FEATURES, np.random.default_rng(0), ranges)
    band = 10 ** (y[0] / 10)
    assert band[:10].max() < 1e-9  # nothing before the sound
    assert np.all(np.diff(band[10:20]) < 0) and band[11] > 0.1 * band[10]
    assert band.sum() == pytest.approx(1.0, rel=0.01)


def test_default_degradation_is_seeded_and_changes_the_features():
    clean = logmel(np.random.default_rng(0).standard_normal(16000))
    a, b = (degrade_logmel(clean, FEATURES, np.random.default_rng(5)) for _ in range(2))
    assert a.shape == clean.shape and a.dtype == np.float32 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - clean).mean() > 1.0


def test_pairs_degrade_only_the_anchor():
    feats = np.random.default_rng(0).normal(-40, 10, (FEATURES.n_mels, 300)).astype(np.float16)
    track = Track("a", "g", feats, False, None)
    plain = AdjacentPairs([track], segment_frames=50, max_gap_frames=0, length=20, seed=1)
    degraded = AdjacentPairs([track], segment_frames=50, max_gap_frames=0, length=20, seed=1,
                             degrade=1.0, features=FEATURES)
    for i in range(20):
        (a0, p0, _), (a1, p1, _) = plain[i], degraded[i]
        assert torch.equal(p0, p1) and not torch.equal(a0, a1)


def test_degradation_needs_logmel_and_a_probability():
    track = Track("a", "g", np.zeros((13, 300), np.float16), False, None)
    mfcc = FeatureConfig(kind="mfcc", n_mfcc=13)
    with pytest.raises(ConfigError, match="logmel"):
        AdjacentPairs([track], segment_frames=50, max_gap_frames=0, length=2, degrade=0.5,
                      features=mfcc)
    with pytest.raises(ConfigError, match="probability"):
        AdjacentPairs([track], segment_frames=50, max_gap_frames=0, length=2, degrade=1.5,
                      features=FEATURES)
