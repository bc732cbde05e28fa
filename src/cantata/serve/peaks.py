"""A waveform's envelope for the page to draw, computed once per file and bin count."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from cantata import audio

RATE = 4000  # plenty for an envelope drawn ~1000 pixels wide


def envelope(path: str, content_hash: str, bins: int) -> dict[str, Any]:
    """``{"bins", "duration_s", "min": [...], "max": [...]}`` of a file, mono, rounded."""
    return _envelope(path, content_hash, bins)


@lru_cache(maxsize=64)
def _envelope(path: str, content_hash: str, bins: int) -> dict[str, Any]:
    samples = np.concatenate([b.samples[0] for b in audio.stream(path, block_s=60,
                                                                 sample_rate=RATE, mono=True)])
    edges = np.linspace(0, len(samples), bins + 1).astype(int)
    lows, highs = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        part = samples[a:max(b, a + 1)] if len(samples) else np.zeros(1)
        lows.append(round(float(part.min()), 4))
        highs.append(round(float(part.max()), 4))
    return {"bins": bins, "duration_s": round(len(samples) / RATE, 3), "min": lows,
            "max": highs}
