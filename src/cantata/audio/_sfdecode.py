"""libsndfile decoder (wav, flac, ogg, aiff, …) behind :mod:`cantata.audio.io`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from cantata.audio import _riff
from cantata.errors import AudioLoadError
from cantata.types import Waveform

BLOCK_FRAMES = 1 << 17  # ~3 s at 44.1 kHz: large enough to be fast, small enough to stream
#: libsndfile reports a stream that does not say its length (a FLAC written to a pipe) as
#: SF_COUNT_MAX frames; a count this large is "unknown", and such a file goes to FFmpeg
UNKNOWN_FRAMES = 1 << 62


def can_read(path: Path) -> bool:
    """Whether libsndfile recognises the file and knows how long it is."""
    try:
        meta = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return False
    return 0 <= meta.frames < UNKNOWN_FRAMES


def header(path: Path) -> dict[str, Any]:
    meta = sf.info(str(path))
    duration_s = float(meta.frames) / meta.samplerate
    # libsndfile counts the frames a WAV holds, not those its data chunk promises
    declared = _riff.declared_duration_s(path) if meta.format in ("WAV", "WAVEX") \
        else duration_s
    return {
        "sample_rate": int(meta.samplerate),
        "n_channels": int(meta.channels),
        "duration_s": duration_s,
        "codec": str(meta.subtype),
        "container": str(meta.format),
        "declared_duration_s": declared,
    }


def blocks(path: Path, *, offset_s: float, duration_s: float | None,
           stream_index: int = 0) -> Iterator[Waveform]:
    """Yield decoded blocks (channels, time) at the file's own rate (one stream only)."""
    if stream_index != 0:
        raise AudioLoadError(path, f"has 1 audio stream, no stream {stream_index}")
    try:
        with sf.SoundFile(str(path)) as f:
            yield from _read(f, path, offset_s=offset_s, duration_s=duration_s)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioLoadError(path, f"corrupt or unreadable audio data ({err})") from err


def _read(
    f: sf.SoundFile, path: Path, *, offset_s: float, duration_s: float | None
) -> Iterator[Waveform]:
    rate = int(f.samplerate)
    start = round(offset_s * rate)
    if start and f.frames and start >= f.frames:
        raise AudioLoadError(
            path, f"offset {offset_s:g} s is past the end of the audio ({f.frames / rate:.3f} s)"
        )
    if start:
        f.seek(start)
    remaining = None if duration_s is None else max(1, round(duration_s * rate))
    while remaining is None or remaining > 0:
        n = BLOCK_FRAMES if remaining is None else min(BLOCK_FRAMES, remaining)
        data = f.read(n, dtype="float32", always_2d=True)  # (time, channels)
        if not len(data):
            return
        if remaining is not None:
            remaining -= len(data)
        yield Waveform(np.ascontiguousarray(data.T), rate)
