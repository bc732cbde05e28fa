"""Stand-in separators for testing the separation engine and API without a network."""

from __future__ import annotations

import numpy as np


class GainSeparator:
    """A linear, sample-by-sample "separator": vocals = the channels' mean times ``gain``,
    accompaniment = the mixture minus the vocals (so the stems sum to the mixture).

    Overlap-add with complementary crossfades reproduces it exactly, whatever the
    windowing; it counts the windows and samples it is given.

    Shape: ``separate_window``: (channels, time) -> (2, channels, time).
    """

    stems = ("vocals", "accompaniment")

    def __init__(self, gain: float = 0.7) -> None:
        self.gain = gain
        self.calls = 0
        self.samples_seen = 0
        self.lengths: list[int] = []

    def separate_window(self, samples: np.ndarray, rate: int) -> np.ndarray:
        self.calls += 1
        self.samples_seen += samples.shape[1]
        self.lengths.append(samples.shape[1])
        vocals = np.broadcast_to(self.gain * samples.mean(axis=0, keepdims=True), samples.shape)
        return np.stack([vocals, samples - vocals]).astype(np.float32)


class BatchGainSeparator(GainSeparator):
    """:class:`GainSeparator` that also offers ``separate_batch`` (and counts its calls)."""

    def __init__(self, gain: float = 0.7) -> None:
        super().__init__(gain)
        self.batches: list[int] = []

    def separate_batch(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """(batch, channels, time) -> (batch, 2, channels, time)."""
        self.batches.append(samples.shape[0])
        return np.stack([self.separate_window(x, rate) for x in samples])
