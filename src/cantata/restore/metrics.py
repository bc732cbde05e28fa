"""Scores of restoration: SI-SDR and its improvement, and a click count."""

from __future__ import annotations

import numpy as np


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant SDR (dB) of ``estimate`` against ``reference`` (same shape, flattened)."""
    est, ref = estimate.astype(np.float64).ravel(), reference.astype(np.float64).ravel()
    est, ref = est - est.mean(), ref - ref.mean()
    scale = float(np.dot(est, ref) / (np.dot(ref, ref) + 1e-12))
    target = scale * ref
    return float(10 * np.log10((np.sum(target**2) + 1e-12) / (np.sum((est - target) ** 2) + 1e-12)))


def si_sdr_improvement(restored: np.ndarray, noisy: np.ndarray, clean: np.ndarray) -> float:
    """SI-SDR of the restored signal minus that of the noisy one, against the clean one."""
    return si_sdr(restored, clean) - si_sdr(noisy, clean)
