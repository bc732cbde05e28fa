"""Filterbanks and transform matrices: mel (Slaney), chroma and the orthonormal DCT-II.

Each reproduces librosa 0.11's default, computed in float64 with numpy and returned as a
float32 tensor, without importing librosa.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch

logger = logging.getLogger(__name__)

_MEL_F_SP = 200.0 / 3  # Hz per mel in the linear region of the Slaney scale
_MEL_MIN_LOG_HZ = 1000.0  # where the Slaney scale turns logarithmic
_MEL_MIN_LOG_MEL = _MEL_MIN_LOG_HZ / _MEL_F_SP
_MEL_LOGSTEP = math.log(6.4) / 27.0  # mels per log-Hz step in the log region


def hz_to_mel(freqs_hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above (``librosa.hz_to_mel``)."""
    freqs_hz = np.asarray(freqs_hz, dtype=np.float64)
    log_region = freqs_hz >= _MEL_MIN_LOG_HZ
    safe_hz = np.where(log_region, freqs_hz, _MEL_MIN_LOG_HZ)
    return np.where(
        log_region,
        _MEL_MIN_LOG_MEL + np.log(safe_hz / _MEL_MIN_LOG_HZ) / _MEL_LOGSTEP,
        freqs_hz / _MEL_F_SP,
    )


def mel_to_hz(mels: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel` (``librosa.mel_to_hz``)."""
    mels = np.asarray(mels, dtype=np.float64)
    return np.where(
        mels >= _MEL_MIN_LOG_MEL,
        _MEL_MIN_LOG_HZ * np.exp(_MEL_LOGSTEP * (mels - _MEL_MIN_LOG_MEL)),
        mels * _MEL_F_SP,
    )


def mel_edges_hz(n_mels: int, f_min_hz: float, f_max_hz: float) -> np.ndarray:
    """(n_mels + 2,) band edges in Hz, evenly spaced in mels: band ``m`` rises from edge
    ``m``, peaks at edge ``m + 1`` (its centre) and falls to edge ``m + 2``."""
    return mel_to_hz(np.linspace(hz_to_mel(f_min_hz), hz_to_mel(f_max_hz), n_mels + 2))


def mel_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    f_min_hz: float = 0.0,
    f_max_hz: float | None = None,
) -> torch.Tensor:
    """Triangular mel filters, as ``librosa.filters.mel`` (htk=False, norm="slaney").

    Args:
        sample_rate: sample rate of the analysed signal, in Hz.
        n_fft: FFT size in samples.
        n_mels: number of mel bands.
        f_min_hz: lowest band edge, in Hz.
        f_max_hz: highest band edge, in Hz (None: ``sample_rate / 2``).

    Returns:
        float32 tensor of shape (n_mels, n_fft // 2 + 1); row ``m`` weights the power
        spectrum bins of band ``m`` (area-normalised, Slaney style).
    """
    f_max_hz = sample_rate / 2 if f_max_hz is None else f_max_hz
    fft_hz = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    edges_hz = mel_edges_hz(n_mels, f_min_hz, f_max_hz)
    widths_hz = np.diff(edges_hz)
    ramps = edges_hz[:, np.newaxis] - fft_hz[np.newaxis, :]
    lower = -ramps[:-2] / widths_hz[:-1, np.newaxis]
    upper = ramps[2:] / widths_hz[1:, np.newaxis]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, np.newaxis]
    empty = np.flatnonzero((edges_hz[:-2] > 0) & (weights.max(axis=1) == 0))
    if empty.size:
        logger.warning(
            "mel bands %s cover no FFT bin (n_mels=%d too many for n_fft=%d at %d Hz); "
            "they will always be zero",
            empty.tolist(),
            n_mels,
            n_fft,
            sample_rate,
        )
    return torch.from_numpy(weights.astype(np.float32))


def dct_matrix(n_mfcc: int, n_mels: int) -> torch.Tensor:
    """Orthonormal DCT-II, as ``scipy.fft.dct(x, type=2, norm="ortho", axis=0)[:n_mfcc]``.

    Args:
        n_mfcc: number of coefficients kept (rows).
        n_mels: length of the transformed axis (columns).

    Returns:
        float32 tensor of shape (n_mfcc, n_mels); ``dct_matrix(k, n) @ x`` is the first
        ``k`` DCT-II coefficients of ``x`` of shape (n, ...).
    """
    k = np.arange(n_mfcc, dtype=np.float64)[:, np.newaxis]
    n = np.arange(n_mels, dtype=np.float64)[np.newaxis, :]
    basis = np.cos(np.pi * k * (2.0 * n + 1.0) / (2.0 * n_mels)) * math.sqrt(2.0 / n_mels)
    basis[0] /= math.sqrt(2.0)
    return torch.from_numpy(basis.astype(np.float32))


def chroma_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_chroma: int = 12,
    ctroct: float = 5.0,
    octwidth: float = 2.0,
) -> torch.Tensor:
    """Chroma filters, as ``librosa.filters.chroma`` (tuning=0, norm=2, base_c=True).

    Each FFT bin is spread over the pitch classes by a Gaussian in chroma bins (width
    set by the bin's own spacing), each column is L2-normalised, and the whole is
    weighted by a Gaussian over octaves centred on ``ctroct``.

    Args:
        sample_rate: sample rate of the analysed signal, in Hz.
        n_fft: FFT size in samples.
        n_chroma: number of pitch classes (bins per octave).
        ctroct: centre of the octave weighting, in octaves above A0 (27.5 Hz).
        octwidth: half-width of the octave weighting, in octaves.

    Returns:
        float32 tensor of shape (n_chroma, n_fft // 2 + 1); row 0 is C.
    """
    fft_hz = np.linspace(0, sample_rate, n_fft, endpoint=False)[1:]
    # Position of each bin in chroma bins above A0 (440 Hz / 16 = 27.5 Hz).
    bins = n_chroma * np.log2(fft_hz / (440.0 / 16))
    # The 0 Hz bin gets a made-up position 1.5 octaves below bin 1.
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))
    bin_widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1.0]))
    dist = bins[np.newaxis, :] - np.arange(n_chroma, dtype=np.float64)[:, np.newaxis]
    half = np.round(n_chroma / 2)
    # Wrap the distance into [-n_chroma/2, n_chroma/2); the offset keeps it positive.
    dist = np.remainder(dist + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * dist / bin_widths[np.newaxis, :]) ** 2)
    weights /= np.sqrt(np.sum(weights**2, axis=0, keepdims=True))
    weights *= np.exp(-0.5 * ((bins / n_chroma - ctroct) / octwidth) ** 2)[np.newaxis, :]
    weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)
    return torch.from_numpy(np.ascontiguousarray(weights[:, : n_fft // 2 + 1], dtype=np.float32))
