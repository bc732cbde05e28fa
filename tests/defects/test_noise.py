"""The noise_burst rule: bursts of noise with square edges and mains hum are found with their
edges; struck sounds, a dropout's edges and a bass note near the mains frequency are not."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.defects import noise, rules
from cantata.testing.signals import music_like

SR = 44100


def music(seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    return music_like(duration_s=seconds, sample_rate=SR, peak=0.5, seed=seed)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@pytest.mark.parametrize(("start", "length", "snr_db"), [(2.0, 0.05, 0.0), (3.3, 0.4, 10.0),
                                                          (1.5, 0.015, -5.0)])
def test_a_burst_of_noise_is_found_with_its_edges(start, length, snr_db):
    x = music()
    a, n = round(start * SR), round(length * SR)
    burst = np.random.default_rng(1).standard_normal(n)
    x[0, a:a + n] += (burst * rms(x[0, a:a + n]) * 10 ** (-snr_db / 20)).astype(np.float32)
    events = rules.noise_burst(x, SR)
    assert len(events) == 1
    assert abs(events[0].start_s - start) < 0.01
    assert abs(events[0].end_s - (start + length)) < 0.01
    assert 0 < events[0].confidence <= 1


def test_struck_sounds_and_a_dropouts_edges_are_no_burst():
    x = music()
    rng = np.random.default_rng(2)
    hit = rng.standard_normal(SR // 5) * np.exp(-np.arange(SR // 5) / (0.03 * SR))
    for at in np.arange(0.5, 5.5, 0.25):  # a hi-hat on every eighth note
        a = round(at * SR)
        x[0, a:a + len(hit)] += (0.4 * hit).astype(np.float32)
    x[0, 3 * SR:3 * SR + SR // 10] = 0
    assert rules.noise_burst(x, SR) == []


@pytest.mark.parametrize(("f0", "harmonics"), [(50, 1), (60, 4)])
def test_mains_hum_is_found_from_its_onset(f0, harmonics):
    x = music(seconds=8.0)
    t = np.arange(3 * SR) / SR
    hum = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, harmonics + 1))
    a = round(2.5 * SR)
    # music_like holds a 55 Hz bass in both lines' neighbourhoods: the hum must stand out of it
    hum *= 0.5 * 10 ** (-10 / 20) / np.max(np.abs(hum))
    x[0, a:a + len(t)] += hum.astype(np.float32)
    events = rules.noise_burst(x, SR)
    assert len(events) == 1
    assert abs(events[0].start_s - 2.5) < 0.1
    assert abs(events[0].end_s - 5.5) < 0.1


@pytest.mark.parametrize("freq", [49.0, 61.74])  # G1 and B1: notes beside the mains lines
def test_a_bass_note_beside_the_mains_is_no_hum(freq):
    t = np.arange(8 * SR) / SR
    x = music(seconds=8.0)
    x[0] += (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    starts, _, _ = noise.mains_hum(x[0], SR)
    assert len(starts) == 0


def test_short_or_silent_input_has_no_noise():
    for x in (np.zeros(SR // 2, np.float32), np.zeros(5 * SR, np.float32)):
        assert all(len(found[0]) == 0 for found in (noise.broadband_bursts(x, SR),
                                                    noise.mains_hum(x, SR)))


def test_band_levels_are_the_bands_energy_whatever_the_fft_chunks():
    x = music(1.0)[0]
    levels, hop = noise.band_levels(x, SR, frame_s=0.004, lo_hz=1000.0, n_bands=8)
    chunked, _ = noise.band_levels(x, SR, frame_s=0.004, lo_hz=1000.0, n_bands=8,
                                   fft_chunk=3)
    np.testing.assert_array_equal(chunked, levels)
    window = np.hanning(2 * hop)
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), 2 * hop)[::hop]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2 / (window.sum() / 2) ** 2
    freqs = np.fft.rfftfreq(2 * hop, 1 / SR)
    edges = np.geomspace(1000.0, SR / 2, 9)
    expected = [power[:, (freqs >= a) & (freqs < b)].sum(axis=1)
                for a, b in zip(edges[:-1], edges[1:], strict=True)]
    np.testing.assert_allclose(levels, 10 * np.log10(np.array(expected) + 1e-12), atol=1e-3)
