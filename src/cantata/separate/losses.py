"""Training losses and quick quality measures of separation, in torch (differentiable).

Waveforms are (..., time); spectrograms (..., freq, frames). Every function reduces the
last axes it names and keeps the leading ones, unless it says it returns a scalar.
"""

from __future__ import annotations

import torch

from cantata.features import stft

_EPS = 1e-8
#: (n_fft, hop_length) pairs of :func:`multi_resolution_stft_loss`
RESOLUTIONS: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512))


def si_sdr(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Scale-invariant SDR in dB (Le Roux et al. 2019), without mean removal.

    ``10 log10(|a s|^2 / |a s - e|^2)`` with ``a = <e, s> / |s|^2``; a small constant
    keeps silent references finite.

    Shape: (..., time) each -> (...).
    """
    dot = (estimate * reference).sum(-1, keepdim=True)
    scaled = dot / (reference.pow(2).sum(-1, keepdim=True) + _EPS) * reference
    noise = estimate - scaled
    return 10 * torch.log10((scaled.pow(2).sum(-1) + _EPS) / (noise.pow(2).sum(-1) + _EPS))


def sdr(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Plain SDR in dB, ``10 log10(|s|^2 / |s - e|^2)`` (no projection, no filters).

    Shape: (..., time) each -> (...).
    """
    error = (reference - estimate).pow(2).sum(-1)
    return 10 * torch.log10((reference.pow(2).sum(-1) + _EPS) / (error + _EPS))


def windowed_sdr(estimate: torch.Tensor, reference: torch.Tensor, window: int, *,
                 max_db: float = 30.0) -> torch.Tensor:
    """Plain SDR in dB of each ``window``-sample stretch, as BSS Eval v4 scores a window.

    Channels share a window: ``10 log10(|s|^2 / (|s - e|^2 + tau |s|^2))`` sums over
    channels and samples, with ``tau = 10^(-max_db / 10)`` so that no window scores above
    ``max_db`` (a window already separated that well stops pulling). A trailing partial
    window is dropped.

    Shape: (batch, channels, time) each -> (batch, time // window).
    """
    est, ref = windows(estimate, window), windows(reference, window)
    target = ref.pow(2).sum(-1)
    error = (ref - est).pow(2).sum(-1)
    tau = 10 ** (-max_db / 10)
    return 10 * torch.log10((target + _EPS) / (error + tau * target + _EPS))


def windows(signal: torch.Tensor, window: int) -> torch.Tensor:
    """Consecutive ``window``-sample stretches, all channels of one stretch together; a
    trailing partial window is dropped.

    Shape: (batch, channels, time) -> (batch, time // window, channels * window).
    """
    n = signal.shape[-1] // window
    if n < 1:
        raise ValueError(f"signals of {signal.shape[-1]} samples hold no {window}-sample window")
    return signal[..., : n * window].unflatten(-1, (n, window)).transpose(1, 2).flatten(2)


def magnitude_l1(estimate: torch.Tensor, target: torch.Tensor,
                 scale: torch.Tensor) -> torch.Tensor:
    """Mean absolute magnitude error of each item relative to its ``scale``, averaged
    over the batch (a scalar).

    Args:
        estimate: complex STFTs (batch, ...).
        target: complex STFTs, same shape.
        scale: (batch,) e.g. the mean mixture magnitude, so the loss ignores loudness.
    """
    error = (estimate.abs() - target.abs()).abs().flatten(1).mean(1)
    return (error / scale.clamp_min(1e-5)).mean()


def multi_resolution_stft_loss(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Spectral convergence plus log-magnitude L1, averaged over :data:`RESOLUTIONS`.

    The spectral convergence is taken over the whole batch, so an item with a silent
    reference does not blow it up.

    Shape: (..., time) each -> scalar.
    """
    total = estimate.new_zeros(())
    for n_fft, hop in RESOLUTIONS:
        est = stft(estimate, n_fft=n_fft, hop_length=hop).abs()
        ref = stft(reference, n_fft=n_fft, hop_length=hop).abs()
        convergence = (ref - est).norm() / (ref.norm() + _EPS)
        log_l1 = (torch.log(est + 1e-5) - torch.log(ref + 1e-5)).abs().mean()
        total = total + convergence + log_l1
    return total / len(RESOLUTIONS)
