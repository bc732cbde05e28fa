"""Time-frequency masks as pure functions: ideal targets, application, regridding (P4).

Shapes follow one grammar: a mixture STFT is ``(..., channels, freq, frames)`` complex,
stems stack on a new axis before the channels, ``(..., stems, channels, freq, frames)``.
Three mask kinds (:data:`MASK_KINDS`):

- ``"irm"``: ideal ratio mask, real in [0, 1]: ``|S_i|^p / sum_j |S_j|^p``;
- ``"psm"``: phase-sensitive mask, real: ``Re(S_i / M)``, clipped to [0, limit];
- ``"cirm"``: complex ratio mask ``S_i / M``, real and imaginary parts clipped to
  [-limit, limit].

The separator predicts the mask of the first stem and takes the complement for the
second (:func:`complement`), so the estimated stems always sum to the mixture.
"""

from __future__ import annotations

import torch

from cantata.errors import ConfigError, ShapeError

MASK_KINDS: tuple[str, ...] = ("irm", "psm", "cirm")
"""Mask kinds :func:`ideal_masks` computes and the separator can predict."""

_EPS = 1e-8


def check_kind(kind: str) -> str:
    """``kind`` if it is one of :data:`MASK_KINDS`; raises ConfigError otherwise."""
    if kind not in MASK_KINDS:
        raise ConfigError(f"mask must be one of {list(MASK_KINDS)}, got {kind!r}")
    return kind


def ideal_masks(
    mix_spec: torch.Tensor, stem_specs: torch.Tensor, kind: str = "irm", *,
    limit: float = 2.0, power: float = 1.0,
) -> torch.Tensor:
    """The oracle masks that turn the mixture into each stem.

    Args:
        mix_spec: mixture STFT, complex (..., channels, freq, frames).
        stem_specs: stem STFTs, complex (..., stems, channels, freq, frames).
        kind: one of :data:`MASK_KINDS`.
        limit: upper bound of ``psm``, bound of both parts of ``cirm``.
        power: exponent ``p`` of the ``irm`` (1: magnitude ratio, 2: Wiener-like).

    Returns:
        (..., stems, channels, freq, frames): real for irm and psm, complex for cirm.
        irm masks of all stems sum to 1 wherever a stem has energy.

    Raises:
        ShapeError: the stems do not fit the mixture.
        ConfigError: unknown kind.
    """
    check_kind(kind)
    if stem_specs.shape[:-4] + stem_specs.shape[-3:] != mix_spec.shape:
        raise ShapeError(f"stem_specs {tuple(stem_specs.shape)} do not fit mix_spec "
                         f"{tuple(mix_spec.shape)} (expected (..., stems, channels, freq, frames))")
    if kind == "irm":
        weight = stem_specs.abs() ** power
        return weight / weight.sum(dim=-4, keepdim=True).clamp_min(_EPS)
    mix = mix_spec.unsqueeze(-4)
    ratio = stem_specs * mix.conj() / (mix.abs() ** 2).clamp_min(_EPS)  # S / M
    if kind == "psm":
        return ratio.real.clamp(0.0, limit)
    return torch.complex(ratio.real.clamp(-limit, limit), ratio.imag.clamp(-limit, limit))


def complement(mask: torch.Tensor) -> torch.Tensor:
    """Masks of the masked stem and of the rest: (..., C, F, T) -> (..., 2, C, F, T)."""
    return torch.stack([mask, 1 - mask], dim=-4)


def apply_masks(mix_spec: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Stem STFTs from masks (real or complex).

    Shape: mix_spec (..., C, F, T), masks (..., S, C, F, T) -> (..., S, C, F, T) complex.
    """
    if masks.shape[:-4] + masks.shape[-3:] != mix_spec.shape:
        raise ShapeError(f"masks {tuple(masks.shape)} do not fit mix_spec "
                         f"{tuple(mix_spec.shape)} (expected (..., stems, channels, freq, frames))")
    return mix_spec.unsqueeze(-4) * masks


def to_irm(mask: torch.Tensor) -> torch.Tensor:
    """Any mask as a real one in [0, 1] (a cirm by its magnitude); shape kept."""
    return (mask.abs() if mask.is_complex() else mask).clamp(0.0, 1.0)


def interpolate(x: torch.Tensor, positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Linear interpolation of ``x`` along ``dim`` at fractional indices ``positions``.

    Positions outside ``[0, x.shape[dim] - 1]`` take the edge value.

    Shape: (..., n, ...) -> (..., len(positions), ...) on axis ``dim``.
    """
    n = x.shape[dim]
    pos = positions.to(torch.float64).clamp(0, n - 1)
    low = pos.floor().long().clamp(max=n - 1)
    high = (low + 1).clamp(max=n - 1)
    shape = [1] * x.ndim
    shape[dim] = len(pos)
    frac = (pos - low).to(x.real.dtype).reshape(shape)
    return x.index_select(dim, low) * (1 - frac) + x.index_select(dim, high) * frac


def regrid(
    mask: torch.Tensor, freq_pos: torch.Tensor, frame_pos: torch.Tensor, *,
    top_band: tuple[int, int],
) -> torch.Tensor:
    """Move a mask onto another STFT grid, extending it above the frequencies it covers.

    Bins at positions up to ``top_band[1]`` are interpolated; bins above it take, per
    frame, the mean mask over model bins ``top_band[0]..top_band[1]`` (the magnitude of a
    complex mask), so high frequencies are shared out like the top of the known band
    rather than cut.

    Args:
        mask: (..., freq, frames), real or complex.
        freq_pos: (freq_out,) fractional model-bin index of every output bin, ascending.
        frame_pos: (frames_out,) fractional model-frame index of every output frame.
        top_band: (first, last) model bins whose mean extends the mask upwards.

    Returns:
        (..., freq_out, frames_out), of ``mask``'s dtype.
    """
    timed = interpolate(mask, frame_pos, dim=-1)  # (..., freq, frames_out)
    first, last = top_band
    above = freq_pos > last
    out = interpolate(timed, freq_pos[~above], dim=-2)
    if not bool(above.any()):
        return out
    band = timed[..., first: last + 1, :]
    band = band.abs() if band.is_complex() else band
    top = band.mean(dim=-2, keepdim=True).to(mask.dtype)  # (..., 1, frames_out)
    return torch.cat([out, top.expand(*top.shape[:-2], int(above.sum()), top.shape[-1])], dim=-2)
