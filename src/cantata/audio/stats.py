"""One streaming pass over a file: header facts plus peak and loudness."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cantata.audio.io import AudioInfo, PathLike, info, stream
from cantata.audio.loudness import LoudnessMeter
from cantata.types import Waveform


@dataclass(frozen=True)
class AudioStats:
    """What ``cantata info`` reports about a file.

    Attributes:
        info: the header facts; ``info.duration_s`` is replaced by the decoded length.
        peak_dbfs: sample peak, dBFS (-inf for digital silence).
        loudness_lufs: integrated loudness, LUFS (-inf for silence or < 0.4 s).
        block_loudness_lufs: loudness of each 400 ms block, hop 100 ms, shape (blocks,).
    """

    info: AudioInfo
    peak_dbfs: float
    loudness_lufs: float
    block_loudness_lufs: np.ndarray

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: -inf levels become None."""

        def level(x: float) -> float | None:
            return round(x, 2) if math.isfinite(x) else None

        return {
            "file": self.info.path,
            "duration_s": round(self.info.duration_s, 3),
            "sample_rate": self.info.sample_rate,
            "channels": self.info.n_channels,
            "codec": self.info.codec,
            "container": self.info.container,
            "peak_dbfs": level(self.peak_dbfs),
            "loudness_lufs": level(self.loudness_lufs),
        }


def measure(
    path: PathLike, *, block_s: float = 10.0, on_progress: Callable[[float], None] | None = None,
    on_block: Callable[[Waveform], None] | None = None,
) -> AudioStats:
    """Decode ``path`` once, block by block, and measure peak and loudness.

    Args:
        path: any file :func:`cantata.audio.load` reads.
        block_s: decoding block length; memory use is proportional to it.
        on_progress: called with the seconds of audio decoded after each block.
        on_block: called with each decoded block, (channels, time) at the file's rate, for
            a caller that also needs the audio (decoded once for both).
    """
    header = info(path)
    meter = LoudnessMeter(header.sample_rate, header.n_channels)
    n_samples = 0
    for block in stream(path, block_s=block_s):
        meter.push(block)
        if on_block is not None:
            on_block(block)
        n_samples += block.n_samples
        if on_progress is not None:
            on_progress(block.duration_s)
    exact = AudioInfo(**{**header.__dict__, "duration_s": n_samples / header.sample_rate})
    return AudioStats(exact, meter.peak_dbfs(), meter.integrated_lufs(),
                      meter.block_loudness_lufs())
