"""Mastering-style effects for a rendered accompaniment (pedalboard), drawn at random.

The chain, each stage optional: high-pass, EQ (low shelf, a peak, high shelf),
compressor, reverb, limiter; then a peak normalisation to a random level. Every
stage keeps the length of the audio.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cantata.errors import CantataError
from cantata.types import Waveform

PEAK_DBFS = (-12.0, -1.0)


def _pedalboard() -> Any:
    try:
        import pedalboard
    except ImportError as err:
        raise CantataError("pedalboard is not installed: scripts/setup.sh train installs "
                           "it") from err
    return pedalboard


def random_chain(rng: np.random.Generator) -> tuple[list, list[dict[str, Any]]]:
    """Plugins and a JSON-able description of each (name and parameters)."""
    pb = _pedalboard()
    u = rng.uniform
    stages: list[tuple[Any, dict[str, float]]] = []
    if rng.random() < 0.5:
        stages.append((pb.HighpassFilter, {"cutoff_frequency_hz": u(20, 80)}))
    if rng.random() < 0.6:
        stages.append((pb.LowShelfFilter, {"cutoff_frequency_hz": u(80, 300),
                                           "gain_db": u(-6, 6), "q": 0.707}))
    if rng.random() < 0.6:
        stages.append((pb.PeakFilter, {"cutoff_frequency_hz": float(np.exp(u(np.log(300),
                                                                             np.log(5000)))),
                                       "gain_db": u(-6, 6), "q": u(0.5, 2.0)}))
    if rng.random() < 0.6:
        stages.append((pb.HighShelfFilter, {"cutoff_frequency_hz": u(3000, 9000),
                                            "gain_db": u(-8, 4), "q": 0.707}))
    if rng.random() < 0.7:
        stages.append((pb.Compressor, {"threshold_db": u(-30, -10), "ratio": u(1.5, 6),
                                       "attack_ms": u(2, 30), "release_ms": u(50, 300)}))
    if rng.random() < 0.8:
        stages.append((pb.Reverb, {"room_size": u(0.1, 0.9), "damping": u(0.2, 0.8),
                                   "wet_level": u(0.05, 0.35), "dry_level": u(0.7, 1.0),
                                   "width": u(0.5, 1.0)}))
    if rng.random() < 0.5:
        stages.append((pb.Limiter, {"threshold_db": u(-6, -1), "release_ms": u(50, 200)}))
    plugins = [cls(**{k: float(v) for k, v in params.items()}) for cls, params in stages]
    described = [{"name": cls.__name__, **{k: round(float(v), 3) for k, v in params.items()}}
                 for cls, params in stages]
    return plugins, described


def peak_normalise(samples: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """Scale so the largest absolute sample is ``peak_dbfs``; silence stays silence."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak < 1e-9:
        return samples.astype(np.float32)
    return (samples * (10 ** (peak_dbfs / 20) / peak)).astype(np.float32)


def apply_effects(wav: Waveform, rng: np.random.Generator) -> tuple[Waveform, dict[str, Any]]:
    """A random effect chain, then a random peak level in ``PEAK_DBFS``.

    Args:
        wav: audio, shape (channels, time).
        rng: draws the chain and the level.

    Returns:
        The processed audio (same shape) and ``{"chain": [...], "peak_dbfs": float}``.
    """
    plugins, described = random_chain(rng)
    x = peak_normalise(wav.samples, -6.0)  # thresholds act on a known level
    if plugins:
        x = _pedalboard().Pedalboard(plugins)(x, wav.sample_rate)
    level = float(rng.uniform(*PEAK_DBFS))
    x = peak_normalise(np.nan_to_num(x[:, : wav.n_samples]), level)
    return Waveform(x, wav.sample_rate), {"chain": described, "peak_dbfs": round(level, 2)}
