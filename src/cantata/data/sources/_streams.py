"""Decoding one audio stream of a multi-stream file (the five streams of a ``.stem.mp4``).

:func:`cantata.audio.load` reads a file's first audio stream only; this module reads
stream ``index`` with the same seeking and trimming rules, through the same FFmpeg
helpers.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from cantata.audio import _avdecode
from cantata.audio.resample import resample
from cantata.errors import AudioLoadError
from cantata.types import Waveform


def count_audio_streams(path: Path) -> int:
    """How many audio streams the file holds."""
    with _avdecode._open(path) as container:
        return len(container.streams.audio)


def load_stream(
    path: str | Path,
    index: int,
    *,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    sample_rate: int | None = None,
) -> Waveform:
    """Decode audio stream ``index`` of a file (or a part of it).

    Args:
        path: a multi-stream container, e.g. a MUSDB18 ``.stem.mp4``.
        index: which audio stream, 0-based among the audio streams.
        offset_s: start reading this many seconds in.
        duration_s: read at most this many seconds; None reads to the end.
        sample_rate: resample to this rate; None keeps the stream's.

    Returns:
        Waveform (channels, time), float32.

    Raises:
        AudioLoadError: unreadable file, no such stream, or no samples in the range.
    """
    path = Path(path)
    with _avdecode._open(path) as container:
        streams = container.streams.audio
        if not 0 <= index < len(streams):
            raise AudioLoadError(path, f"has {len(streams)} audio streams, no stream {index}")
        stream = streams[index]
        rate = int(stream.codec_context.sample_rate)
        start = round(offset_s * rate)
        stop = None if duration_s is None else start + max(1, round(duration_s * rate))
        seek_s = offset_s - _avdecode.SEEK_PREROLL_S
        if seek_s > 0:
            container.seek(int((seek_s + _avdecode._start_time_s(stream)) * av.time_base))
        chunks = []
        for pos, samples in _avdecode._frames(container, stream, path, seeked=seek_s > 0):
            lo = max(start - pos, 0)
            hi = samples.shape[1] if stop is None else min(samples.shape[1], stop - pos)
            if hi > lo:
                chunks.append(samples[:, lo:hi])
            if stop is not None and pos + samples.shape[1] >= stop:
                break
    if not chunks:
        raise AudioLoadError(path, f"stream {index} has no audio samples after {offset_s:g} s")
    wav = Waveform(np.concatenate(chunks, axis=1), rate)
    return wav if sample_rate is None else resample(wav, sample_rate)
