"""Separation quality: BSS Eval v4 (museval-compatible) and scale-invariant SDR (pure numpy).

:func:`bss_eval` reproduces ``museval.evaluate(references, estimates, win, hop)`` in its
default ``"v4"`` mode — ``museval.metrics.bss_eval(..., compute_permutation=False,
framewise_filters=False, bsseval_sources_version=False)`` — to within floating-point
rounding:

1. Distortion filters of ``filter_len`` taps (512) are fitted **once per source over the
   whole signal**: the least-squares projection of each estimate onto the span of all
   references delayed by 0..511 samples (all channels), and onto its own reference alone.
   The Gram matrix of the delayed references is built from their cross-correlations, which
   are computed blockwise with FFTs.
2. For each window (1 s, hop 1 s; a trailing partial window is dropped, as museval does)
   the references *of that window* are filtered with those filters and the estimate is
   split into target, spatial distortion, interference and artefacts:

   - ``SDR = 10 log10(|s|² / |ŝ - s|²)`` — in this "images" mode the filters cancel out;
   - ``ISR = 10 log10(|s|² / |P_j s - s|²)``;
   - ``SIR = 10 log10(|P_j s|² / |P_all s - P_j s|²)``;
   - ``SAR = 10 log10(|P_all s|² / |ŝ - P_all s|²)``,

   with ``P_j`` the projection on the source's own delayed reference and ``P_all`` the one
   on all references. Energies of the filtered signals are taken in the frequency domain
   (Parseval), so no inverse FFT is needed.
3. A window where **any** reference or estimate is digital silence (its channel sum is 0 at
   every sample) is NaN for every source and metric, as in museval.

A track's score is the median of its window scores ignoring NaN (:func:`frame_median`, what
museval's ``TrackStore`` does); a data set's is the median of its tracks' scores.

Known limits, shared with museval: references with frequency bands of no energy at all
(rendered or band-limited stems) make the filter fit ill-conditioned, and ISR, SIR and SAR
then come out meaningless while SDR (which needs no filters here) is fine — give such stems
a faint noise floor first. Channels that are exact copies make the fit singular; it then
falls back to least squares, which is correct but several times slower.

Array layout follows museval: ``(sources, time, channels)``; a 2-D ``(sources, time)`` input
is taken as mono and a 1-D one as a single mono source (``np.atleast_3d``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.fft

from cantata.errors import ConfigError, ShapeError

FILTER_LEN = 512
"""Length of the distortion filters in samples (museval's ``filters_len``)."""

_CORR_FFT = 8192  # FFT size of the blockwise cross-correlation (>= 4 * filter_len)
_CORR_CHUNK = 64  # blocks transformed at once
_WINDOW_CHUNK = 16  # evaluation windows transformed at once


class BssEvalScores(NamedTuple):
    """Window-wise BSS Eval v4 scores in dB; each array has shape (sources, n_frames).

    Unpacks as ``sdr, isr, sir, sar = bss_eval(...)``. NaN marks windows where a reference
    or an estimate is silent.
    """

    sdr: np.ndarray
    isr: np.ndarray
    sir: np.ndarray
    sar: np.ndarray


def bss_eval(
    references: np.ndarray,
    estimates: np.ndarray,
    sample_rate: int,
    *,
    window_s: float = 1.0,
    hop_s: float = 1.0,
    filter_len: int = FILTER_LEN,
) -> BssEvalScores:
    """BSS Eval v4 images metrics per window, as ``museval.evaluate`` computes them.

    Args:
        references: true sources, shape (sources, time, channels) (or (sources, time) for
            mono, or (time,) for one mono source).
        estimates: estimated sources in the same order and shape as ``references``.
        sample_rate: of both, in Hz (windows are ``round(window_s * sample_rate)`` samples).
        window_s: evaluation window; ``inf`` (or longer than the signal) scores the whole
            signal as one window.
        hop_s: hop between windows.
        filter_len: distortion filter taps (museval: 512).

    Returns:
        :class:`BssEvalScores` ``(sdr, isr, sir, sar)``, each (sources, n_frames), in dB.
        ``n_frames = floor((time - window) / hop) + 1`` (1 when the window covers it all).
        A perfect estimate has SDR ``inf``.

    Shape:
        references, estimates: (S, N, C) -> scores (S, n_frames).

    Raises:
        ShapeError: the shapes differ, are not 1- to 3-D, or hold no samples.
        ConfigError: non-positive ``window_s``, ``hop_s``, ``filter_len`` or sample rate.

    Unlike museval, an all-silent source does not raise: all its windows are NaN.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> refs = rng.standard_normal((2, 32000, 1))
        >>> sdr, isr, sir, sar = bss_eval(refs, refs + 0.1 * rng.standard_normal(refs.shape),
        ...                               16000)
        >>> sdr.shape, bool(np.all(np.abs(sdr - 20) < 0.5))
        ((2, 2), True)
    """
    refs, ests = _as_sources(references, estimates)
    if sample_rate <= 0 or window_s <= 0 or hop_s <= 0 or filter_len < 1:
        raise ConfigError("bss_eval needs positive sample_rate, window_s, hop_s and filter_len, "
                          f"got {sample_rate}, {window_s}, {hop_s}, {filter_len}")
    n_src, n_samples, n_chan = refs.shape
    window = n_samples if np.isinf(window_s) else max(1, int(round(window_s * sample_rate)))
    hop = n_samples if np.isinf(hop_s) else max(1, int(round(hop_s * sample_rate)))
    if window < n_samples:
        starts = np.arange((n_samples - window + hop) // hop) * hop
    else:
        window, starts = n_samples, np.zeros(1, int)

    filt_all, filt_own = _distortion_filters(refs, ests, filter_len)

    n_fft = scipy.fft.next_fast_len(window + filter_len - 1, real=True)
    filt_all_f = scipy.fft.rfft(filt_all, n=n_fft, axis=3)  # (est, ref, c_in, freq, c_out)
    filt_all_f = filt_all_f.transpose(3, 0, 4, 1, 2).reshape(
        -1, n_src * n_chan, n_src * n_chan)  # (freq, est * c_out, ref * c_in)
    filt_own_f = scipy.fft.rfft(filt_own, n=n_fft, axis=2).transpose(2, 0, 3, 1)
    # (freq, src, c_out, c_in)
    out = np.full((4, n_src, len(starts)), np.nan)
    for first in range(0, len(starts), _WINDOW_CHUNK):
        chunk = starts[first : first + _WINDOW_CHUNK]
        idx = chunk[:, None] + np.arange(window)  # (frames, window)
        ref_fr, est_fr = refs[:, idx], ests[:, idx]  # (src, frames, window, chan)
        out[:, :, first : first + len(chunk)] = _window_scores(
            ref_fr, est_fr, filt_all_f, filt_own_f, n_fft)
    out[:, :, _silent_windows(refs, starts, window) | _silent_windows(ests, starts, window)] \
        = np.nan
    return BssEvalScores(*out)


def frame_median(scores: np.ndarray) -> np.ndarray:
    """A track's score from its window scores: the median over windows, ignoring NaN.

    Args:
        scores: window scores, shape (..., n_frames).

    Returns:
        Shape (...): NaN where every window is NaN.
    """
    scores = np.asarray(scores, dtype=float)
    valid = ~np.isnan(scores)
    out = np.full(scores.shape[:-1], np.nan)
    has = valid.any(axis=-1)
    if np.any(has):
        out[has] = np.nanmedian(scores[has], axis=-1)
    return out


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Scale-invariant SDR in dB (Le Roux et al. 2019), one value per source.

    Each channel is made zero-mean, the channels of a source are concatenated, and the
    estimate is split into ``alpha * reference`` (its projection) and the rest:
    ``SI-SDR = 10 log10(|alpha s|² / |ŝ - alpha s|²)``. Rescaling the estimate leaves it
    unchanged.

    Args:
        reference: true sources, shape (sources, time, channels), as for :func:`bss_eval`
            (2-D is (sources, time) mono, 1-D a single mono source).
        estimate: estimated sources, same shape.

    Returns:
        Shape (sources,): NaN for a silent reference, ``-inf`` for a silent (or orthogonal)
        estimate, ``inf`` for an exact scaled copy.

    Raises:
        ShapeError: the shapes differ, are not 1- to 3-D, or hold no samples.

    Example:
        >>> s = np.sin(np.arange(1000) / 7.0)
        >>> float(np.round(si_sdr(s, 0.3 * s + 0.03 * np.cos(np.arange(1000) / 3.0))[0], 1))
        20.0
    """
    refs, ests = _as_sources(reference, estimate)
    refs = refs - refs.mean(axis=1, keepdims=True)
    ests = ests - ests.mean(axis=1, keepdims=True)
    refs, ests = refs.reshape(len(refs), -1), ests.reshape(len(ests), -1)
    ref_energy = np.sum(refs**2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.sum(refs * ests, axis=1) / ref_energy
        target = alpha[:, None] * refs
        out = _db(np.sum(target**2, axis=1), np.sum((ests - target) ** 2, axis=1))
    out[np.sum(ests**2, axis=1) == 0] = -np.inf
    out[ref_energy == 0] = np.nan
    return out


def _as_sources(references: np.ndarray, estimates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    refs = np.atleast_3d(np.asarray(references, dtype=np.float64))
    ests = np.atleast_3d(np.asarray(estimates, dtype=np.float64))
    if np.ndim(references) > 3 or refs.shape != ests.shape:
        raise ShapeError("references and estimates must have one (sources, time, channels) "
                         f"shape, got {np.shape(references)} and {np.shape(estimates)}")
    if refs.size == 0:
        raise ShapeError(f"nothing to evaluate: shape {np.shape(references)}")
    return refs, ests


def _db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """10 log10(num / den); ``inf`` where den == 0 (museval's ``_safe_db``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, np.inf, 10 * np.log10(num / np.where(den == 0, 1, den)))


def _correlation_sizes(n_samples: int, n_lags: int) -> tuple[int, int, int]:
    """FFT size, block length and block count of :func:`_cross_correlations`."""
    n_fft = _CORR_FFT
    while n_fft < 4 * n_lags:
        n_fft *= 2
    block = n_fft - (n_lags - 1)
    return n_fft, block, -(-n_samples // block)


def _cross_correlations(signals: np.ndarray, n_x: int, n_lags: int) -> np.ndarray:
    """``r[a, b, k] = sum_n signals[n, a] signals[n + k, b]`` for ``a < n_x``, every ``b``
    and lags ``0 <= k < n_lags``.

    Blockwise: each block of ``block`` samples of a signal ``a``, zero-padded to ``n_fft =
    block + n_lags - 1``, is correlated circularly with the ``n_fft`` samples of ``b`` that
    start where it starts, which covers every lag below ``n_lags`` without wrap-around; the
    cross-spectra are summed over blocks before one inverse FFT.

    Shape:
        signals (blocks * block + n_lags - 1, B), time-major, zero after the signal (see
        :func:`_correlation_sizes`) -> (n_x, B, n_lags).
    """
    n_fft, block, n_blocks = _correlation_sizes(len(signals) - (n_lags - 1), n_lags)
    xb = signals[: n_blocks * block, :n_x].reshape(n_blocks, block, n_x)  # (blocks, block, A)
    yb = np.lib.stride_tricks.sliding_window_view(signals, n_fft, axis=0)[::block]
    # (blocks, B, n_fft): overlapping segments, one starting at each block
    acc = np.zeros((n_fft // 2 + 1, n_x, signals.shape[1]), complex)  # (freq, A, B)
    for b0 in range(0, n_blocks, _CORR_CHUNK):
        xf = scipy.fft.rfft(xb[b0 : b0 + _CORR_CHUNK], n=n_fft, axis=1)  # (chunk, freq, A)
        yf = scipy.fft.rfft(yb[b0 : b0 + _CORR_CHUNK], axis=-1)  # (chunk, B, freq)
        acc += np.einsum("cfa,cbf->fab", np.conj(xf), yf, optimize=True)
    return scipy.fft.irfft(acc, n=n_fft, axis=0)[:n_lags].transpose(1, 2, 0)


def _solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """museval's filter solve: ``(G + eps I)^-1 D``, least squares if singular."""
    try:
        return np.linalg.solve(gram + np.finfo(float).eps * np.eye(len(gram)), rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def _distortion_filters(refs: np.ndarray, ests: np.ndarray,
                        filter_len: int) -> tuple[np.ndarray, np.ndarray]:
    """The time-invariant distortion filters of museval's v4 mode, fitted on whole signals.

    Returns:
        ``filt_all`` (est_src, ref_src, c_in, taps, c_out): estimate ``e`` projected on all
        delayed references; ``filt_own`` (src, c_in, taps, c_out): estimate ``j`` projected
        on reference ``j`` alone.

    Shape:
        refs, ests: (src, time, chan).
    """
    n_src, n_samples, n_chan = refs.shape
    n_ref, taps = n_src * n_chan, filter_len
    _, block, n_blocks = _correlation_sizes(n_samples, taps)
    signals = np.zeros((n_blocks * block + taps - 1, 2 * n_ref))  # time, (refs | ests) x chan
    for j in range(n_src):
        signals[:n_samples, j * n_chan : (j + 1) * n_chan] = refs[j]
        signals[:n_samples, n_ref + j * n_chan : n_ref + (j + 1) * n_chan] = ests[j]
    corr = _cross_correlations(signals, n_ref, taps)
    ref_corr, cross = corr[:, :n_ref], corr[:, n_ref:]  # (n_ref, n_ref | n_est, taps)
    # gram[(a, p), (b, q)] = <ref_a delayed p, ref_b delayed q> = r_ab(p - q)
    lag = np.arange(taps)[:, None] - np.arange(taps)[None, :]  # (p, q)
    gram = np.where(lag >= 0, ref_corr[:, :, np.abs(lag)],
                    ref_corr.transpose(1, 0, 2)[:, :, np.abs(lag)])  # (a, b, p, q)
    gram = gram.transpose(0, 2, 1, 3).reshape(n_ref * taps, n_ref * taps)
    # rhs[(a, p), e] = <ref_a delayed p, est_e> = r_{a,e}(p)
    rhs = cross.transpose(0, 2, 1).reshape(n_ref * taps, n_ref)
    filt_all = _solve(gram, rhs).reshape(n_src, n_chan, taps, n_src, n_chan)
    filt_all = filt_all.transpose(3, 0, 1, 2, 4)  # (est_src, ref_src, c_in, taps, c_out)
    own = n_chan * taps
    filt_own = np.stack([
        _solve(gram[j * own : (j + 1) * own, j * own : (j + 1) * own],
               rhs[j * own : (j + 1) * own, j * n_chan : (j + 1) * n_chan])
        for j in range(n_src)
    ]).reshape(n_src, n_chan, taps, n_chan)
    return filt_all, filt_own


def _energy(spec: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Energy of real signals from their rfft (Parseval), summed over freq and channels.

    Shape:
        spec (freq, src, chan, frames), weights (freq,) -> (src, frames).
    """
    flat = np.ascontiguousarray(spec).view(np.float64)  # (freq, src, chan, 2 * frames)
    power = np.einsum("f,fscq->sq", weights, flat * flat)
    return power.reshape(len(power), -1, 2).sum(axis=-1)


def _silent_windows(sources: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """Windows where some source's channel sum is 0 at every sample (museval's test).

    Shape:
        sources (src, time, chan), starts (frames,) -> (frames,) bool.
    """
    sounding = np.zeros((len(sources), sources.shape[1] + 1), np.int64)
    np.cumsum(sources.sum(axis=2) != 0, axis=1, out=sounding[:, 1:])
    return np.any(sounding[:, starts + window] == sounding[:, starts], axis=0)


def _window_scores(ref_fr: np.ndarray, est_fr: np.ndarray, filt_all_f: np.ndarray,
                   filt_own_f: np.ndarray, n_fft: int) -> np.ndarray:
    """SDR, ISR, SIR, SAR of a chunk of windows; (4, src, frames).

    Shape:
        ref_fr, est_fr: (src, frames, window, chan); filt_all_f (freq, est_src * c_out,
        ref_src * c_in); filt_own_f (freq, src, c_out, c_in).
    """
    n_src, n_frames, _, n_chan = ref_fr.shape
    ref_f = scipy.fft.rfft(ref_fr, n=n_fft, axis=2).transpose(2, 0, 3, 1)  # (f, src, ch, fr)
    est_f = scipy.fft.rfft(est_fr, n=n_fft, axis=2).transpose(2, 0, 3, 1)
    n_freq = len(ref_f)
    proj_all = (filt_all_f @ ref_f.reshape(n_freq, n_src * n_chan, n_frames)).reshape(
        ref_f.shape)  # (freq, src, chan, frames)
    proj_own = filt_own_f @ ref_f  # (freq, src, chan, frames)
    weights = np.full(n_freq, 2.0 / n_fft)
    weights[0] = 1.0 / n_fft
    if n_fft % 2 == 0:
        weights[-1] = 1.0 / n_fft
    target = np.einsum("sqwc,sqwc->sq", ref_fr, ref_fr)  # (src, frames)
    error = est_fr - ref_fr
    scores = np.stack([
        _db(target, np.einsum("sqwc,sqwc->sq", error, error)),
        _db(target, _energy(proj_own - ref_f, weights)),
        _db(_energy(proj_own, weights), _energy(proj_all - proj_own, weights)),
        _db(_energy(proj_all, weights), _energy(est_f - proj_all, weights)),
    ])
    return scores
