"""High-quality sample-rate conversion (soxr, 'VHQ')."""

from __future__ import annotations

import numpy as np
import soxr

from cantata.types import Waveform

QUALITY = "VHQ"


def resample(wav: Waveform, sample_rate: int) -> Waveform:
    """Resample a whole waveform to ``sample_rate`` Hz.

    Shape: (channels, time) -> (channels, round(time * sample_rate / wav.sample_rate)).
    """
    if sample_rate == wav.sample_rate:
        return wav
    out = soxr.resample(wav.samples.T, wav.sample_rate, sample_rate, quality=QUALITY)
    return Waveform(np.ascontiguousarray(np.asarray(out, dtype=np.float32).T), sample_rate)


class StreamResampler:
    """Resample a signal that arrives in blocks, seamlessly across block boundaries.

    Call :meth:`push` for every block and :meth:`flush` once at the end; the
    concatenated outputs equal :func:`resample` of the concatenated inputs.
    """

    def __init__(self, in_rate: int, out_rate: int, n_channels: int) -> None:
        self.in_rate, self.out_rate, self.n_channels = in_rate, out_rate, n_channels
        self._soxr = (
            None if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, n_channels, dtype="float32",
                                     quality=QUALITY)
        )

    def push(self, block: Waveform) -> np.ndarray:
        """Resample one block; returns (channels, time_out), possibly empty."""
        if self._soxr is None:
            return block.samples
        out = self._soxr.resample_chunk(np.ascontiguousarray(block.samples.T), last=False)
        return np.ascontiguousarray(out.T)

    def flush(self) -> np.ndarray:
        """The samples still held back by the filter; (channels, time_out)."""
        if self._soxr is None:
            return np.zeros((self.n_channels, 0), np.float32)
        out = self._soxr.resample_chunk(np.zeros((0, self.n_channels), np.float32), last=True)
        return np.ascontiguousarray(out.T)
