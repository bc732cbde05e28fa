"""Multichannel Wiener filtering: refine masked stem estimates with the sources' spatial
covariances (the EM of Duong et al. 2010, as in sigsep's norbert and Open-Unmix).

Each stem j is modelled at every bin and frame as a zero-mean complex Gaussian with
covariance ``v_j(f, t) R_j(f)``: a power spectral density ``v_j`` (the mean over channels
of the estimate's power) and a spatial covariance matrix ``R_j`` per bin (channels x
channels, pooled over frames). One iteration re-estimates both from the current estimates
and applies the multichannel Wiener filter
``y_j = v_j R_j (sum_k v_k R_k)^-1 x``. The stems' filters sum to the identity, so the
refined estimates still sum to the mixture (up to the regularisation). With one channel
``R_j = 1`` and one iteration is the power-ratio mask ``v_j / sum_k v_k``; with two, a
vocal in the centre and an accompaniment spread across the stereo field are told apart by
where they sit as well as by their spectra.
"""

from __future__ import annotations

import torch

from cantata.errors import ConfigError, ShapeError

#: diagonal loading of each spatial covariance, relative to the mixture's scale
_REGULARISATION = 1e-4
#: floor of the mixture covariance's diagonal (after scaling the mixture to a peak of 10)
_EPS = 1e-10
#: frames filtered at a time, so that the (F, frames, C, C) mixture covariances and the
#: solves' temporaries stay small (a 30 s window at 44.1 kHz has 1875 frames); the blocks
#: also run faster, in cache (docs/separation.md, *Wiener filtering in blocks*)
_BLOCK_FRAMES = 128


def wiener(mix_spec: torch.Tensor, estimates: torch.Tensor, iterations: int = 1
           ) -> torch.Tensor:
    """Refine stem STFT estimates by ``iterations`` of multichannel Wiener EM.

    Args:
        mix_spec: mixture STFT, complex (..., C, F, T).
        estimates: initial stem STFTs, complex (..., S, C, F, T) (e.g. masks times the
            mixture, :func:`~cantata.models.masks.apply_masks`).
        iterations: EM iterations (0 returns ``estimates`` unchanged).

    Returns:
        complex (..., S, C, F, T), the refined stems.

    Raises:
        ShapeError: the estimates do not fit the mixture.
        ConfigError: negative ``iterations``.
    """
    if estimates.shape[:-4] + estimates.shape[-3:] != mix_spec.shape:
        raise ShapeError(f"estimates {tuple(estimates.shape)} do not fit mix_spec "
                         f"{tuple(mix_spec.shape)} (expected (..., stems, channels, freq, "
                         "frames))")
    if iterations < 0:
        raise ConfigError(f"wiener iterations must be >= 0, got {iterations}")
    if iterations == 0:
        return estimates
    # scale the mixture to a peak of 10 so that the regularisation means the same anywhere
    scale = (mix_spec.abs().flatten(-3).amax(-1) / 10).clamp_min(1e-8)[..., None, None, None]
    x = mix_spec / scale
    y = estimates / scale.unsqueeze(-4)
    eye = torch.eye(x.shape[-3], dtype=x.dtype)
    for _ in range(iterations):
        v, spatial = _local_gaussian_model(y)
        spatial = spatial + _REGULARISATION * eye  # (..., S, F, C, C)
        refined = torch.empty_like(y)
        for start in range(0, x.shape[-1], _BLOCK_FRAMES):
            frames = slice(start, start + _BLOCK_FRAMES)
            refined[..., frames] = _filter(x[..., frames], v[..., frames], spatial)
        y = refined
    return y * scale.unsqueeze(-4)


def _filter(x: torch.Tensor, v: torch.Tensor, spatial: torch.Tensor) -> torch.Tensor:
    """The multichannel Wiener filter ``y_j = v_j R_j (sum_k v_k R_k)^-1 x`` on some frames:
    mixture (..., C, F, T), PSDs (..., S, F, T) and spatial covariances (..., S, F, C, C)
    in, stems (..., S, C, F, T) out."""
    v = v.to(x.dtype)
    eye = torch.eye(x.shape[-3], dtype=x.dtype)
    mix_cov = torch.einsum("...sft,...sfcd->...ftcd", v, spatial) + _EPS * eye
    z = _solve(mix_cov, x.movedim(-3, -1))  # (..., F, T, C)
    return v.unsqueeze(-3) * torch.einsum("...sfcd,...ftd->...scft", spatial, z)


def _solve(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a^-1 b`` for a batch of Hermitian C x C matrices ``a`` (..., C, C) and vectors
    ``b`` (..., C); mono and stereo in closed form (Cramer's rule with a real diagonal and
    determinant), faster than a batched LU solve on these tiny matrices."""
    if a.shape[-1] == 1:
        return b / a[..., 0].real
    if a.shape[-1] == 2:
        p, q, s = a[..., 0, 0].real, a[..., 0, 1], a[..., 1, 1].real
        b0, b1 = b[..., 0], b[..., 1]
        det = p * s - (q.real.square() + q.imag.square())
        return torch.stack([s * b0 - q * b1, p * b1 - q.conj() * b0], -1) / det[..., None]
    return torch.linalg.solve(a, b.unsqueeze(-1))[..., 0]


def _local_gaussian_model(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """PSDs (..., S, F, T) and spatial covariances (..., S, F, C, C) of stem estimates
    (..., S, C, F, T)."""
    power = y.real.square() + y.imag.square()
    v = power.mean(-3)
    if y.shape[-3] == 2:  # stereo: the diagonal from the powers, one cross term
        cross = (y[..., 0, :, :] * y[..., 1, :, :].conj()).sum(-1)  # (..., S, F)
        diag = power.sum(-1).to(y.dtype)  # (..., S, C, F)
        outer = torch.stack([torch.stack([diag[..., 0, :], cross], -1),
                             torch.stack([cross.conj(), diag[..., 1, :]], -1)], -2)
    else:
        outer = torch.einsum("...cft,...dft->...fcd", y, y.conj())  # sum over frames
    return v, outer / (v.sum(-1)[..., None, None] + _EPS)
