"""BSS Eval v4 and SI-SDR on textbook cases, and against museval when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.errors import ShapeError
from cantata.separate.metrics import bss_eval, frame_median, si_sdr

RATE = 8000
TAPS = 128  # shorter distortion filters than the default 512 keep these tests fast


def two_sources(seconds: float = 4.0, *, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Vocals-like (white) and accompaniment-like (low-passed) noise at equal energy;
    (2, time, channels)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    voice = rng.standard_normal((n, channels))
    backing = np.apply_along_axis(np.convolve, 0, rng.standard_normal((n, channels)),
                                  np.ones(4) / 4, "same")
    sources = np.stack([voice, backing])
    return sources / np.sqrt(np.mean(sources**2, axis=(1, 2), keepdims=True))


def test_shapes_and_frame_count() -> None:
    refs = two_sources(3.3, channels=2)
    scores = bss_eval(refs, 0.9 * refs, RATE, filter_len=TAPS)
    assert [s.shape for s in scores] == [(2, 3)] * 4  # the partial 4th second is dropped
    assert bss_eval(refs, 0.9 * refs, RATE, window_s=np.inf, filter_len=TAPS).sdr.shape == (2, 1)
    assert bss_eval(refs, 0.9 * refs, RATE, window_s=2.0, hop_s=0.5,
                    filter_len=TAPS).sdr.shape == (2, 3)
    mono = refs[:, :, 0]  # (sources, time) is mono
    assert bss_eval(mono, mono * 0.5, RATE, filter_len=TAPS).sdr.shape == (2, 3)


def test_perfect_estimate_has_infinite_sdr() -> None:
    refs = two_sources(2.0)
    sdr, isr, sir, sar = bss_eval(refs, refs, RATE, filter_len=TAPS)
    assert np.all(np.isinf(sdr)) and np.all(sdr > 0)
    assert np.all(isr > 100) and np.all(sir > 100) and np.all(sar > 100)


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_sdr_of_independent_noise_is_the_snr(snr_db: float) -> None:
    refs = two_sources(3.0)
    noise = np.random.default_rng(1).standard_normal(refs.shape) * 10 ** (-snr_db / 20)
    sdr, _, sir, sar = bss_eval(refs, refs + noise, RATE, filter_len=TAPS)
    assert np.allclose(frame_median(sdr), snr_db, atol=0.5)
    assert np.allclose(frame_median(sar), snr_db, atol=0.5)  # the noise is all artefact
    assert np.all(frame_median(sir) > snr_db + 10)


def test_half_mixture_scores_3_db_sdr_and_0_db_si_sdr() -> None:
    refs = two_sources(3.0)
    half = np.broadcast_to(0.5 * refs.sum(axis=0), refs.shape)
    sdr, _, sir, _ = bss_eval(refs, half, RATE, filter_len=TAPS)
    assert np.allclose(frame_median(sdr), 3.0, atol=0.3)
    assert np.allclose(frame_median(sir), 0.0, atol=0.3)  # 0 dB mix: interference = target
    assert np.allclose(si_sdr(refs, half), 0.0, atol=0.3)
    mixture = np.broadcast_to(refs.sum(axis=0), refs.shape)
    assert np.allclose(frame_median(bss_eval(refs, mixture, RATE, filter_len=TAPS).sdr), 0.0,
                       atol=0.3)


def test_sir_of_the_mixture_is_the_input_snr() -> None:
    refs = np.random.default_rng(6).standard_normal((2, 3 * RATE, 1))
    refs *= np.array([2.0, 1.0])[:, None, None] / refs.std(axis=(1, 2), keepdims=True)
    mixture = np.broadcast_to(refs.sum(axis=0), refs.shape)
    sir = frame_median(bss_eval(refs, mixture, RATE, filter_len=TAPS).sir)
    # the projection on the weak source also catches ~TAPS/time of the strong one
    assert sir == pytest.approx([6.02, -6.02], abs=0.3)


def test_silent_windows_are_nan_and_ignored_by_the_median() -> None:
    refs = two_sources(4.0)
    refs[0, RATE : 2 * RATE] = 0.0  # vocals silent in the 2nd second
    est = refs + 0.1 * np.random.default_rng(2).standard_normal(refs.shape)
    sdr, isr, sir, sar = bss_eval(refs, est, RATE, filter_len=TAPS)
    for scores in (sdr, isr, sir, sar):
        assert np.isnan(scores[:, 1]).all() and not np.isnan(scores[:, [0, 2, 3]]).any()
    assert frame_median(sdr) == pytest.approx(np.median(sdr[:, [0, 2, 3]], axis=1))
    est[1, 3 * RATE :] = 0.0  # a silent estimate blanks its window too
    assert np.isnan(bss_eval(refs, est, RATE, filter_len=TAPS).sdr[:, 3]).all()
    assert np.isnan(frame_median(np.full((2, 3), np.nan))).all()


def test_si_sdr_is_scale_invariant_and_sdr_is_not() -> None:
    refs = two_sources(2.0)
    est = refs + 0.1 * np.random.default_rng(3).standard_normal(refs.shape)
    assert si_sdr(refs, 5.0 * est) == pytest.approx(si_sdr(refs, est))
    assert si_sdr(refs, est + 3.0) == pytest.approx(si_sdr(refs, est))  # zero-mean
    assert si_sdr(refs, est) == pytest.approx([20.0, 20.0], abs=0.3)
    assert frame_median(bss_eval(refs, 5.0 * est, RATE, filter_len=TAPS).sdr).max() < 0


def test_si_sdr_edge_cases() -> None:
    ref = np.sin(np.arange(1000) / 5.0)
    assert si_sdr(ref, ref).tolist() == [np.inf]
    assert si_sdr(ref, np.zeros_like(ref)).tolist() == [-np.inf]
    assert np.isnan(si_sdr(np.zeros_like(ref), ref)).all()


def test_shape_errors() -> None:
    refs = two_sources(1.0)
    with pytest.raises(ShapeError):
        bss_eval(refs, refs[:1], RATE)
    with pytest.raises(ShapeError):
        si_sdr(refs[:, :0], refs[:, :0])


@pytest.mark.parametrize("channels, filter_len", [(1, 512), (2, 128)])
def test_matches_museval(channels: int, filter_len: int) -> None:
    museval = pytest.importorskip("museval")
    rng = np.random.default_rng(4)
    refs = two_sources(2.0, channels=channels, seed=5)
    refs[1] = np.roll(refs[1], 7, axis=0) + 0.3 * refs[0]  # correlated sources
    refs[0, RATE // 2 : 2 * RATE] = 0.0  # the 2nd window is silent
    mix = refs.sum(axis=0)
    ests = np.stack([0.7 * refs[0] + 0.2 * mix, np.roll(0.8 * refs[1], 3, axis=0) + 0.1 * mix])
    ests = ests + 0.05 * rng.standard_normal(ests.shape)
    ours = bss_eval(refs, ests, RATE, filter_len=filter_len)
    # what museval.evaluate(refs, ests, win=RATE, hop=RATE) runs, with filters_len exposed
    theirs = museval.metrics.bss_eval(refs, ests, window=RATE, hop=RATE,
                                      compute_permutation=False, filters_len=filter_len,
                                      framewise_filters=False, bsseval_sources_version=False)
    assert np.isnan(ours.sdr[:, 1]).all()
    for mine, reference in zip(ours, theirs[:4], strict=True):
        assert np.array_equal(np.isnan(mine), np.isnan(reference))
        np.testing.assert_allclose(mine, reference, atol=0.01, equal_nan=True)
