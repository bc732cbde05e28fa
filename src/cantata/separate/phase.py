"""Consistent phase for a masked stem (one Griffin-Lim step from the mixture's phase).

A mask applied to the mixture's STFT gives a spectrogram that no signal has: its frames
overlap, and the mixture's phase does not fit the masked magnitudes. The ISTFT then
averages the frames' disagreements into artefacts. One consistency step (MISI, Gunawan
& Sen 2010, for one stem) resynthesises the masked spectrogram, takes the phase of that
signal's STFT and puts it under the masked magnitudes again: the phase moves towards
one that the magnitudes can have, while the magnitudes stay the mask's.

:func:`two_stems` is how a separator (and its training) turns the first stem's masked
STFT into both stems' waveforms.
"""

from __future__ import annotations

import torch

from cantata.features import istft, stft

#: guards the phase of a (near) silent bin, whose magnitude is kept near zero anyway
EPS = 1e-8


def consistent_phase(spec: torch.Tensor, steps: int, *, hop_length: int, window: str,
                     center: bool, length: int) -> torch.Tensor:
    """``spec``'s magnitudes under the phase reached by ``steps`` consistency steps.

    Differentiable, so a separator can be trained through it.

    Args:
        spec: a masked STFT, complex (..., freq, frames), as :func:`~cantata.features.stft`
            made it with ``hop_length``, ``window`` and ``center``.
        steps: consistency steps (0 returns ``spec`` itself).
        length: samples of the signal ``spec`` came from.

    Returns:
        complex, the shape of ``spec``; its magnitudes are ``spec``'s.
    """
    magnitude = spec.abs()
    n_fft = 2 * (spec.shape[-2] - 1)
    for _ in range(steps):
        signal = istft(spec, hop_length=hop_length, window=window, center=center,
                       length=length)
        resynth = stft(signal, n_fft=n_fft, hop_length=hop_length, window=window,
                       center=center)
        unit = resynth * torch.rsqrt(resynth.real.square() + resynth.imag.square() + EPS ** 2)
        spec = magnitude * unit
    return spec


def two_stems(first: torch.Tensor, mixture: torch.Tensor, steps: int, *, hop_length: int,
              window: str, center: bool) -> torch.Tensor:
    """Both stems' waveforms: the first resynthesised after ``steps`` consistency steps,
    the second the mixture minus the first (without steps, what the complementary mask
    gives through the linear ISTFT), so they sum to the mixture exactly.

    Shape: ``first`` (B, C, F, T) complex, ``mixture`` (B, C, N) -> (B, 2, C, N).
    """
    kw = {"hop_length": hop_length, "window": window, "center": center,
          "length": mixture.shape[-1]}
    wav = istft(consistent_phase(first, steps, **kw), **kw)
    return torch.stack([wav, mixture - wav], dim=1)
