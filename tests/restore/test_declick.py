"""Declicking: clicks found and filled; clean audio left alone."""

from __future__ import annotations

import numpy as np

from cantata.restore.declick import declick, find_clicks, interpolate

RATE = 16000


def music(seconds=1.0, seed=0):
    """A few decaying partials: predictable, like tonal music."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    x = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in
            zip(rng.uniform(0.05, 0.2, 5), rng.uniform(100, 2000, 5), rng.uniform(0, 6, 5),
                strict=True))
    return (x + 1e-3 * rng.standard_normal(len(t))).astype(np.float32)


def with_clicks(x, positions, level=0.8):
    y = x.copy()
    for pos in positions:
        y[pos: pos + 3] += level * np.array([1.0, -0.6, 0.3], np.float32)
    return y


def test_clicks_are_found_and_filled():
    x = music()
    positions = [1500, 4000, 7333, 11000, 14500]
    y = with_clicks(x, positions)
    spans = find_clicks(y, RATE)
    assert all(any(s <= p < e for s, e in spans) for p in positions)
    restored, count = declick(y[None], RATE)
    assert count == len(spans) and count <= len(positions) + 1
    assert np.abs(restored[0] - x).max() < 0.1 < np.abs(y - x).max()


def test_clean_audio_comes_back_unchanged():
    x = music(seed=1)
    restored, count = declick(x[None], RATE)
    assert count == 0 and np.array_equal(restored[0], x)


def test_interpolation_near_an_edge_leaves_the_audio():
    x = music()
    assert np.array_equal(interpolate(x, 0, 5, 32), x)
