"""One streaming pass over a file: header facts plus peak and loudness."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cantata.audio.io import AudioInfo, PathLike, info, stream
from cantata.audio.loudness import LoudnessMeter
from cantata.types import Waveform

#: a compressed stream decodes to its header's length give or take codec delay and padding
#: (or the header's length is an estimate): a shortfall beyond the larger of these is a cut
TRUNCATED_S = 0.25
TRUNCATED_FRACTION = 0.01
#: codecs that decode to exactly the samples the header counts (libsndfile's PCM subtypes
#: and FLAC, FFmpeg's pcm_*) ...
EXACT_CODECS = ("PCM_", "FLOAT", "DOUBLE", "ULAW", "ALAW")
#: ... where a shortfall of more than this is a cut (less: a writer that counted its header
#: or a pad byte into the data size)
EXACT_TRUNCATED_S = 0.001


@dataclass(frozen=True)
class AudioStats:
    """What ``cantata info`` reports about a file.

    Attributes:
        info: the header facts; ``info.duration_s`` is replaced by the decoded length.
        peak_dbfs: sample peak, dBFS (-inf for digital silence).
        loudness_lufs: integrated loudness, LUFS (-inf for silence or < 0.4 s).
        block_loudness_lufs: loudness of each 400 ms block, hop 100 ms, shape (blocks,).
        truncated: the file holds less audio than its header declares
            (``info.declared_duration_s``), or breaks off (``info.cut``): it was cut short,
            e.g. by an interrupted copy.
    """

    info: AudioInfo
    peak_dbfs: float
    loudness_lufs: float
    block_loudness_lufs: np.ndarray
    truncated: bool = False

    @property
    def declared_duration_s(self) -> float | None:
        """The length the header promises (None when it does not say)."""
        return self.info.declared_duration_s

    def truncation_warning(self) -> str:
        """One line naming the file and what is missing ("" when it is not truncated)."""
        if not self.truncated:
            return ""
        if self.info.cut:
            return (f"{self.info.path}: truncated: the stream breaks off after "
                    f"{self.info.duration_s:.3f} s (its last Ogg page is cut or missing)")
        return (f"{self.info.path}: truncated: its header declares "
                f"{self.declared_duration_s:.3f} s of audio, the file holds "
                f"{self.info.duration_s:.3f} s")

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
            "truncated": self.truncated,
            "declared_duration_s": None if self.declared_duration_s is None
            else round(self.declared_duration_s, 3),
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
                      meter.block_loudness_lufs(), truncated=is_truncated(exact))


def is_truncated(decoded: AudioInfo) -> bool:
    """Whether a file's decoded length (``decoded.duration_s``) falls short of the length
    its header declares: by a millisecond for PCM and FLAC, by more than codec delay and padding
    (:data:`TRUNCATED_S`, :data:`TRUNCATED_FRACTION`) for compressed streams; or whether it
    breaks off where no header says how long it is (``decoded.cut``: an Ogg file)."""
    if decoded.cut:
        return True
    declared = decoded.declared_duration_s
    if declared is None:
        return False
    if decoded.codec.upper().startswith(EXACT_CODECS):
        tolerance = EXACT_TRUNCATED_S
    else:
        tolerance = max(TRUNCATED_S, TRUNCATED_FRACTION * declared)
    return declared - decoded.duration_s > tolerance
