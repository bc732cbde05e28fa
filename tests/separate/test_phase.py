"""consistent_phase: one Griffin-Lim step from the mixture's phase, under the mask's magnitudes."""

from __future__ import annotations

import torch

from cantata.features import istft, stft
from cantata.separate.phase import consistent_phase

KW = {"hop_length": 64, "window": "hann", "center": True}
N = 4000


def _inconsistency(spec: torch.Tensor) -> float:
    """||STFT(ISTFT(S)) - S||: zero exactly for spectrograms some signal has."""
    again = stft(istft(spec, length=N, **KW), n_fft=256, **KW)
    return float((again - spec).abs().pow(2).sum().sqrt())


def _masked() -> tuple[torch.Tensor, torch.Tensor]:
    """A two-channel mixture's STFT (2, 129, frames) and a random mask applied to it."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, N, generator=gen) * 0.1
    spec = stft(x, n_fft=256, **KW)
    mask = torch.rand(spec.shape, generator=gen)
    return spec, spec * mask


def test_zero_steps_keep_the_spectrogram():
    _, masked = _masked()
    assert torch.equal(consistent_phase(masked, 0, length=N, **KW), masked)


def test_a_step_keeps_the_magnitudes_and_brings_the_phase_towards_consistency():
    _, masked = _masked()
    out = consistent_phase(masked, 1, length=N, **KW)
    torch.testing.assert_close(out.abs(), masked.abs(), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(out.angle(), masked.angle(), atol=1e-2)
    two = consistent_phase(masked, 2, length=N, **KW)
    assert _inconsistency(two) <= _inconsistency(out) < _inconsistency(masked)


def test_a_consistent_spectrogram_is_left_as_it_is():
    spec, _ = _masked()
    torch.testing.assert_close(consistent_phase(spec, 3, length=N, **KW), spec, atol=1e-4,
                               rtol=0)


def test_gradients_pass_through_silent_bins():
    _, masked = _masked()
    gain = torch.ones(masked.shape[-2], 1, requires_grad=True)
    silent = masked.clone()
    silent[..., :10, :] = 0  # bins a mask shuts: their phase is undefined
    out = consistent_phase(silent * gain, 1, length=N, **KW)
    istft(out, length=N, **KW).pow(2).sum().backward()
    assert torch.isfinite(gain.grad).all() and gain.grad.abs().sum() > 0
