"""StreamingDetector: windowing, debouncing and latency, with a stand-in detector."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.detect.api import DEBUG_FEATURES
from cantata.detect.streaming import StreamingDetector
from cantata.testing import sine


class LoudnessDetector:
    """Probability 1 where a frame is loud: a detector whose right answer is known."""

    features, labels, hop_s = DEBUG_FEATURES, ("vocal",), DEBUG_FEATURES.hop_length / 16000

    def probs_of(self, samples: np.ndarray) -> np.ndarray:
        hop, half = self.features.hop_length, self.features.n_fft // 2
        padded = np.pad(samples, half)
        frames = 1 + len(samples) // hop
        energy = [np.mean(padded[i * hop: i * hop + 2 * half] ** 2) for i in range(frames)]
        return (np.array(energy) > 1e-3).astype(np.float32)[None]


def signal(spans: list[tuple[float, float]], duration_s: float = 5.0) -> np.ndarray:
    x = np.zeros(round(duration_s * 16000), np.float32)
    tone = sine(300, duration_s=duration_s, sample_rate=16000).samples[0]
    for a, b in spans:
        x[round(a * 16000):round(b * 16000)] = tone[round(a * 16000):round(b * 16000)]
    return x


@pytest.mark.parametrize("block_s", [0.02, 0.05, 0.1])
def test_events_at_the_right_times_within_latency(block_s):
    live = StreamingDetector(LoudnessDetector())
    x = signal([(1.0, 2.0), (3.0, 4.2)])
    block = round(block_s * 16000)
    events = [e for i in range(0, len(x), block) for e in live.push(x[i:i + block])]
    assert [e.kind for e in events] == ["started", "stopped", "started", "stopped"]
    # the frame windows (64 ms) smear an edge by up to half a window
    assert [e.time_s for e in events] == pytest.approx([1.0, 2.0, 3.0, 4.2], abs=0.04)
    # latency: the debounce run (0.1 / 0.12 s), the window's half (32 ms), one block
    assert all(0 < e.latency_s <= 0.12 + 0.04 + block_s + 0.02 for e in events)


def test_short_blips_and_dropouts_are_ignored():
    live = StreamingDetector(LoudnessDetector())
    x = signal([(1.0, 1.05), (2.0, 3.0), (3.06, 4.0)])
    events = [e for i in range(0, len(x), 800) for e in live.push(x[i:i + 800])]
    assert [(e.kind, round(e.time_s, 1)) for e in events] == [("started", 2.0), ("stopped", 4.0)]


def test_reset_starts_a_new_stream():
    live = StreamingDetector(LoudnessDetector())
    x = signal([(1.0, 2.0)], duration_s=2.5)
    first = [e for i in range(0, len(x), 800) for e in live.push(x[i:i + 800])]
    live.reset()
    second = [e for i in range(0, len(x), 800) for e in live.push(x[i:i + 800])]
    assert first == second
