"""Declicking: isolated clicks (and clicks close together) filled to within a tenth of their
peak; clean audio, drum attacks, panned sounds and over-long spans left alone."""

from __future__ import annotations

import numpy as np

from cantata.restore.declick import DeclickConfig, declick, find_clicks, interpolate

RATE = 16000


def music(seconds=1.0, seed=0):
    """A few decaying partials: predictable, like tonal music."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    x = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in
            zip(rng.uniform(0.05, 0.2, 5), rng.uniform(100, 2000, 5), rng.uniform(0, 6, 5),
                strict=True))
    return (x + 1e-3 * rng.standard_normal(len(t))).astype(np.float32)


def with_clicks(x, positions, level=0.4, seed=0):
    """Clicks as in the benchmark: Hann-windowed noise bursts, 0.5 ms, peak ``level``."""
    rng, y = np.random.default_rng(seed), x.copy()
    for pos in positions:
        burst = np.hanning(10)[1:-1] * rng.standard_normal(8)
        y[pos: pos + 8] += level * burst / np.abs(burst).max()
    return y


def test_isolated_clicks_are_filled_to_a_tenth_of_their_peak():
    x = music()
    positions = [1500, 4000, 7333, 11000, 14500]
    y = with_clicks(x, positions)
    spans = find_clicks(y[None], RATE)[0]
    assert all(any(s <= p and p + 8 <= e for s, e in spans) for p in positions)
    restored, count = declick(y[None], RATE)
    assert count == len(spans) == len(positions)
    for p in positions:
        assert np.abs(restored[0, p - 50: p + 60] - x[p - 50: p + 60]).max() < 0.04
    assert np.abs(restored[0] - x).max() < 0.1 * 0.4


def test_clean_audio_comes_back_unchanged():
    x = music(seed=1)
    restored, count = declick(x[None], RATE)
    assert count == 0 and np.array_equal(restored[0], x)


def test_a_percussive_attack_is_left_untouched():
    """A drum hit (a sharp attack, then 60 ms of decaying noise) is music, not a click."""
    x = music(seed=2)
    rng = np.random.default_rng(3)
    for at in (4000, 10000):
        length = round(0.06 * RATE)
        hit = 0.5 * rng.standard_normal(length) * np.exp(-np.arange(length) / (0.01 * RATE))
        x[at: at + length] += hit.astype(np.float32)
    restored, count = declick(x[None], RATE)
    assert count == 0 and np.array_equal(restored[0], x)


def test_a_click_in_one_channel_is_filled_there_and_a_panned_sound_is_not():
    left = music()
    stereo = np.stack([left, 0.8 * left])
    stereo[0] = with_clicks(stereo[0], [4000])
    stereo[:, 9000] += [0.4, 0.06]  # one sound, panned: weaker in the other channel
    restored, count = declick(stereo, RATE)
    assert count == 1
    assert np.abs(restored[0, 3950:4060] - left[3950:4060]).max() < 0.04
    assert np.array_equal(restored[:, 8000:], stereo[:, 8000:])
    assert np.array_equal(restored[1], stereo[1])


def test_interpolation_near_an_edge_leaves_the_audio():
    x = music()
    assert np.array_equal(interpolate(x, 0, 5, 32, 200), x)


def test_two_clicks_5_ms_apart_are_both_filled():
    """Each is in the other's surroundings: the defect rule's isolation (0.3) takes neither."""
    x = music()
    y = with_clicks(with_clicks(x, [4000], 0.4, seed=1), [4080], 0.3, seed=2)
    restored, count = declick(y[None], RATE)
    assert count >= 1
    assert np.abs(restored[0] - x).max() < 0.1 * 0.3


def test_a_span_longer_than_the_longest_click_is_left_alone():
    y = with_clicks(music(), [4000, 11000])
    assert len(find_clicks(y[None], RATE)[0]) == 2
    assert find_clicks(y[None], RATE, DeclickConfig(longest_ms=0.5))[0] == []


def test_a_wide_fill_keeps_what_was_heard_beside_the_click():
    """Noise beside a click cannot be predicted; the refined fill keeps it where the first
    fill found little click (a plain AR fill errs by about the noise's level, 0.01)."""
    rng = np.random.default_rng(5)
    x = music(seed=5) + (0.01 * rng.standard_normal(RATE)).astype(np.float32)
    y = with_clicks(x, [8000])
    start, end = 7960, 8048  # 40 samples either side of the 8-sample click
    out = interpolate(y, start, end, 128, 1000)
    beside = np.r_[start:7995, 8013:end]
    assert np.sqrt(np.mean((out[beside] - x[beside]) ** 2)) < 0.008
    assert np.abs(out[8000:8008] - x[8000:8008]).max() < 0.1 * 0.4
