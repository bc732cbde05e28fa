"""The default strength of a restorer, chosen on validation pairs and kept in its checkpoint.

A mask trained towards the ideal ratio mask tends to over-suppress at high SNR and on clean
music it does not know; a strength below 1 (the mask raised to it, see
:func:`~cantata.restore.streaming.mask_gain`) trades some noise removal for less damage.
:func:`calibrate_strength` scores each candidate strength on the validation pairs (the mean
SI-SDR improvement on noisy pairs, less how far clean pairs fall below
:data:`CLEAN_BAR_DB`) and writes the best into ``meta["strength"]``, which inference uses
unless told otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from cantata.models.registry import load_checkpoint, save_checkpoint
from cantata.restore.metrics import si_sdr
from cantata.restore.streaming import StreamingDenoiser

#: strengths tried
CANDIDATES = (0.25, 0.5, 0.75, 1.0, 1.5)
#: clean input must come out at least this close (SI-SDR, dB); the score is docked below it
CLEAN_BAR_DB = 25.0


def score_strength(model: object, pairs: Iterable[tuple[np.ndarray, np.ndarray]],
                   strength: float) -> dict[str, float]:
    """``{"sisdri", "clean_sisdr", "score"}`` of ``strength`` over (noisy, clean) mono pairs."""
    denoiser = StreamingDenoiser(model, strength=strength)  # type: ignore[arg-type]
    gains, clean_scores = [], []
    for noisy, clean in pairs:
        if not np.any(clean):
            continue
        out = denoiser.process_all(noisy[None])[0]
        if np.array_equal(noisy, clean):
            clean_scores.append(si_sdr(out, clean))
        else:
            gains.append(si_sdr(out, clean) - si_sdr(noisy, clean))
    gain = float(np.mean(gains)) if gains else 0.0
    clean_db = float(np.median(clean_scores)) if clean_scores else float("inf")
    return {"sisdri": gain, "clean_sisdr": clean_db,
            "score": gain - max(0.0, CLEAN_BAR_DB - clean_db)}


def calibrate_strength(path: str | os.PathLike[str],
                       pairs: Sequence[tuple[np.ndarray, np.ndarray]],
                       candidates: Sequence[float] = CANDIDATES) -> float:
    """Choose the best of ``candidates`` on ``pairs`` for the restorer in ``path`` and write
    it, with every candidate's scores, into the checkpoint's meta (``strength``,
    ``strength_calibration``); returns it."""
    model, checkpoint = load_checkpoint(path)
    scores = {str(s): score_strength(model, pairs, s) for s in candidates}
    best = max(candidates, key=lambda s: scores[str(s)]["score"])
    meta = {**checkpoint.meta, "strength": best,
            "strength_calibration": {"pairs": len(pairs), "scores": scores}}
    save_checkpoint(path, model, name=checkpoint.name, config=checkpoint.config, meta=meta)
    return best
