"""A waveform's envelope for the page to draw, computed once per file and bin count by
streaming the decoded audio (bounded memory at any length)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from cantata import audio

FRAME_S = 0.004  # one (min, max) pair kept per 4 ms while streaming
BLOCK_S = 10.0


def envelope(path: str, key: str, bins: int) -> dict[str, Any]:
    """``{"bins", "duration_s", "min": [...], "max": [...]}`` of a file, mono, rounded;
    ``key`` names the file's content (its hash, or size and mtime) for the cache."""
    return _envelope(path, key, bins)


@lru_cache(maxsize=64)
def _envelope(path: str, key: str, bins: int) -> dict[str, Any]:
    # At the file's own rate: resampling would cost more and lose what is above its cut.
    lows, highs, carry, n, rate = [], [], np.zeros(0, np.float32), 0, 1
    for block in audio.stream(path, block_s=BLOCK_S, mono=True):
        rate = block.sample_rate
        frame = max(1, round(FRAME_S * rate))
        x = np.concatenate([carry, block.samples[0]])
        whole = len(x) - len(x) % frame
        frames = x[:whole].reshape(-1, frame)
        lows.append(frames.min(axis=1))
        highs.append(frames.max(axis=1))
        carry, n = x[whole:], n + block.samples.shape[1]
    if len(carry):
        lows.append(carry[:1] * 0 + carry.min())
        highs.append(carry[:1] * 0 + carry.max())
    low = np.concatenate(lows) if lows else np.zeros(1, np.float32)
    high = np.concatenate(highs) if highs else np.zeros(1, np.float32)
    starts = np.linspace(0, len(low), bins + 1).astype(int)[:-1]  # a bin has >= 1 frame
    return {"bins": bins, "duration_s": round(n / rate, 3),
            "min": np.round(np.minimum.reduceat(low, starts).astype(float), 4).tolist(),
            "max": np.round(np.maximum.reduceat(high, starts).astype(float), 4).tolist()}
