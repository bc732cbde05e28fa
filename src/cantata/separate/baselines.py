"""Classical vocal / accompaniment separators: the yardsticks a learnt separator must beat.

Every separator has the call shape ``fn(mix, sample_rate) -> {"vocals": ..., "accompaniment":
...}`` on numpy arrays (channels, time), float, with outputs of exactly the input's shape:

- :func:`mixture_baseline`: the mixture itself for both stems (BSS Eval SDR ≈ the input SNR);
- :func:`half_mixture`: half the mixture for both (≈ 3 dB SDR on 0 dB mixes, SI-SDR ≈ 0);
- :func:`hpss_baseline`: harmonic/percussive separation (vocals = percussive part of a long
  window HPSS, see there);
- :func:`repet_sim`: REPET-SIM (repetition by nearest-neighbour filtering);
- :func:`oracle_irm`: the ideal ratio mask from the true stems — an upper bound for mask
  models on the same STFT, not a separator (it takes the stems).

STFTs go through :func:`cantata.features.stft` / :func:`~cantata.features.istft` (librosa
conventions); HPSS and REPET-SIM also need ``librosa`` (a dev dependency), imported inside.
Channels are separated independently.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.features.stft import istft, stft

Stems = dict[str, np.ndarray]
BaselineFn = Callable[[np.ndarray, int], Stems]
STEMS = ("vocals", "accompaniment")


def mixture_baseline(mix: np.ndarray, sample_rate: int) -> Stems:
    """The mixture as the estimate of both stems (the "do nothing" floor).

    Args:
        mix: mixture, shape (channels, time).
        sample_rate: of ``mix`` in Hz (unused).

    Returns:
        ``{"vocals": mix, "accompaniment": mix}``, each (channels, time) float32.
    """
    mix = _as_mix(mix)
    return {"vocals": mix.copy(), "accompaniment": mix.copy()}


def half_mixture(mix: np.ndarray, sample_rate: int) -> Stems:
    """Half the mixture as the estimate of both stems.

    On a 0 dB mix of uncorrelated stems this scores 3 dB SDR: the error ``(a - v) / 2`` has
    half the energy of ``v``. Scale-invariant SDR sees through it (≈ 0 dB).

    Args:
        mix: mixture, shape (channels, time).
        sample_rate: of ``mix`` in Hz (unused).

    Returns:
        ``{"vocals": mix / 2, "accompaniment": mix / 2}``, each (channels, time) float32.
    """
    half = 0.5 * _as_mix(mix)
    return {"vocals": half, "accompaniment": half.copy()}


def hpss_baseline(mix: np.ndarray, sample_rate: int, *, n_fft: int | None = None,
                  kernel_size: int = 31, margin: float = 1.0) -> Stems:
    """Harmonic/percussive separation with a long window: vocals = the percussive part.

    The usual HPSS singing-voice baseline (Tachibana, Ono, Ono & Sagayama 2010; FitzGerald
    2010's median filtering, as ``librosa.decompose.hpss``) does not take the harmonic part
    as the voice: with a long analysis window (here ~128 ms), sustained instruments form
    horizontal ridges (harmonic), while the voice — vibrato, glides, short syllables —
    fluctuates too fast for them and lands with the percussion in the *percussive* part.
    So vocals = percussive, accompaniment = harmonic (their sum is the mixture when
    ``margin`` is 1). Drums stay with the vocals: expect low SIR where there are drums.

    Args:
        mix: mixture, shape (channels, time).
        sample_rate: of ``mix`` in Hz.
        n_fft: STFT size (None: the power of two nearest to 128 ms), hop ``n_fft // 4``.
        kernel_size: median filter length in frames and bins (``librosa`` default 31).
        margin: ``librosa``'s separation margin (1: soft masks that sum to one).

    Returns:
        ``{"vocals": ..., "accompaniment": ...}``, each (channels, time) float32.
    """
    import librosa

    mix = _as_mix(mix)
    n_fft = n_fft or _n_fft_for(0.128, sample_rate)
    spec = _stft(mix, n_fft)
    harmonic, percussive = librosa.decompose.hpss(spec, kernel_size=kernel_size, margin=margin)
    return {"vocals": _istft(percussive, mix), "accompaniment": _istft(harmonic, mix)}


def repet_sim(mix: np.ndarray, sample_rate: int, *, n_fft: int | None = None,
              width_s: float = 2.0, margin_vocals: float = 10.0,
              margin_accompaniment: float = 2.0, power: float = 2.0) -> Stems:
    """REPET-SIM (Rafii & Pardo 2012), as in librosa's "vocal separation" example.

    The accompaniment repeats; the voice does not. Each frame of the magnitude spectrogram
    is replaced by the median of its most similar frames (cosine similarity, at least
    ``width_s`` away: ``librosa.decompose.nn_filter``), giving the repeating background
    (capped by the mixture); soft masks with margins then split the mixture:
    ``mask_v = softmask(|X| - B, margin_vocals * B)``, ``mask_a = softmask(B, margin_acc *
    (|X| - B))``. The two masks need not sum to one (the example's choice, kept).

    Args:
        mix: mixture, shape (channels, time).
        sample_rate: of ``mix`` in Hz.
        n_fft: STFT size (None: the power of two nearest to 64 ms: 1024 at 16 kHz, 2048
            at 44.1 kHz), hop ``n_fft // 4``.
        width_s: similar frames must be at least this far apart (shortened to a quarter of
            the clip for clips under ``8 * width_s``, so that every frame has neighbours).
        margin_vocals: margin of the vocal mask (librosa example: 10).
        margin_accompaniment: margin of the accompaniment mask (librosa example: 2).
        power: soft mask exponent (librosa example: 2).

    Returns:
        ``{"vocals": ..., "accompaniment": ...}``, each (channels, time) float32.
    """
    import librosa

    mix = _as_mix(mix)
    n_fft = n_fft or _n_fft_for(0.064, sample_rate)
    hop = n_fft // 4
    spec = _stft(mix, n_fft)
    mag = np.abs(spec)
    n_frames = mag.shape[-1]
    width = max(1, min(int(round(width_s * sample_rate / hop)), n_frames // 4))
    vocal_mask, acc_mask = np.zeros_like(mag), np.zeros_like(mag)
    for ch, full in enumerate(mag):
        background = librosa.decompose.nn_filter(full, aggregate=np.median, metric="cosine",
                                                 width=width)
        background = np.minimum(full, background)
        acc_mask[ch] = librosa.util.softmask(background, margin_accompaniment *
                                             (full - background), power=power)
        vocal_mask[ch] = librosa.util.softmask(full - background, margin_vocals * background,
                                               power=power)
    return {"vocals": _istft(vocal_mask * spec, mix), "accompaniment": _istft(acc_mask * spec, mix)}


def oracle_irm(mix: np.ndarray, vocals: np.ndarray, accompaniment: np.ndarray,
               sample_rate: int, *, n_fft: int = 2048, power: float = 2.0) -> Stems:
    """The ideal ratio mask, computed from the true stems: an upper bound, not a separator.

    ``mask_v = |V|^p / (|V|^p + |A|^p)`` on the STFT (hop ``n_fft // 4``), applied to the
    mixture with its phase; the accompaniment gets ``1 - mask_v``. ``power`` 2 (default) is
    the Wiener-like power ratio, sigsep's oracle "IRM2" and the usual "oracle IRM" of
    published tables; 1 is the magnitude ratio (``cantata.models.masks.ideal_masks``'
    default ``irm``), about 1.5 dB lower on MIR-1K.

    Args:
        mix: mixture, shape (channels, time) (need not be exactly ``vocals +
            accompaniment``).
        vocals: true vocals, same shape.
        accompaniment: true accompaniment, same shape.
        sample_rate: in Hz (unused: the STFT is set in samples).
        n_fft: STFT size.
        power: mask exponent ``p``.

    Returns:
        ``{"vocals": ..., "accompaniment": ...}``, each (channels, time) float32.

    Raises:
        ShapeError: the three arrays differ in shape.
    """
    mix = _as_mix(mix)
    vocals, accompaniment = _as_mix(vocals), _as_mix(accompaniment)
    if not mix.shape == vocals.shape == accompaniment.shape:
        raise ShapeError(f"oracle_irm needs stems shaped as the mixture {mix.shape}, got "
                         f"{vocals.shape} and {accompaniment.shape}")
    weight_v = np.abs(_stft(vocals, n_fft)) ** power
    weight_a = np.abs(_stft(accompaniment, n_fft)) ** power
    total = weight_v + weight_a
    mask = np.divide(weight_v, total, out=np.full_like(total, 0.5), where=total > 0)
    spec = _stft(mix, n_fft)
    return {"vocals": _istft(mask * spec, mix), "accompaniment": _istft((1 - mask) * spec, mix)}


BASELINES: dict[str, BaselineFn] = {
    "mixture": mixture_baseline,
    "half mixture": half_mixture,
    "HPSS": hpss_baseline,
    "REPET-SIM": repet_sim,
}
"""The blind baselines by display name (the oracle needs the stems, so it is not here)."""


def _as_mix(mix: np.ndarray) -> np.ndarray:
    mix = np.asarray(mix, dtype=np.float32)
    if mix.ndim == 1:
        mix = mix[np.newaxis]
    if mix.ndim != 2 or mix.shape[1] == 0:
        raise ShapeError(f"a separator takes a (channels, time) mixture, got shape {mix.shape}")
    return mix


def _n_fft_for(seconds: float, sample_rate: int) -> int:
    if sample_rate <= 0:
        raise ConfigError(f"sample_rate must be positive, got {sample_rate}")
    return int(2 ** round(np.log2(seconds * sample_rate)))


def _stft(wav: np.ndarray, n_fft: int) -> np.ndarray:
    """Complex STFT, (channels, time) -> (channels, n_fft // 2 + 1, frames), hop n_fft / 4."""
    spec = stft(torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float64)), n_fft=n_fft,
                hop_length=n_fft // 4)
    return spec.numpy()


def _istft(spec: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_stft`, cut to the length of ``like``; float32 (channels, time)."""
    n_fft = 2 * (spec.shape[-2] - 1)
    wav = istft(torch.from_numpy(np.ascontiguousarray(spec)), hop_length=n_fft // 4,
                length=like.shape[-1])
    return wav.numpy().astype(np.float32)
