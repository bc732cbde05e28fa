"""Reading and writing audio files.

Two decoders sit behind one interface: libsndfile (through soundfile) for the
formats it knows (wav, flac, ogg, aiff, …) and FFmpeg (through PyAV, which
carries its own libraries) for everything else (mp3, m4a/aac, opus, wma, …).
Every failure becomes an :class:`~cantata.errors.AudioLoadError` that names the
file and the problem.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from cantata.audio import _avdecode, _ogg, _sfdecode
from cantata.audio.resample import StreamResampler, resample
from cantata.errors import AudioLoadError
from cantata.types import Waveform

PathLike = str | os.PathLike[str]

#: Suffixes libsndfile reads natively; anything else goes to FFmpeg.
SNDFILE_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".aifc", ".au", ".caf", ".w64",
     ".rf64", ".snd"}
)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, without decoding it.

    Attributes:
        path: the file.
        sample_rate: samples per second per channel.
        n_channels: number of channels.
        duration_s: length in seconds (from the header; may be an estimate for
            compressed streams without an exact length).
        codec: codec or sample format, e.g. ``"PCM_16"``, ``"FLAC"``, ``"mp3"``.
        container: file format, e.g. ``"WAV"``, ``"mp3"``, ``"mov,mp4,m4a"``.
        declared_duration_s: the length the header promises (a WAV's data chunk size, a
            FLAC's total samples, an MP3's Xing frame count, ...); it exceeds
            ``duration_s`` when a WAV is cut short. None when the header does not say.
        cut: the file breaks off before its stream's end though no header says how long
            it is (an Ogg file whose last page is cut or is not its stream's last).
    """

    path: str
    sample_rate: int
    n_channels: int
    duration_s: float
    codec: str
    container: str
    declared_duration_s: float | None = None
    cut: bool = False


def _check_file(path: PathLike) -> Path:
    p = Path(path)
    try:
        p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise AudioLoadError(p, "no such file") from None
    except OSError as err:  # e.g. a name over 255 bytes
        raise AudioLoadError(p, f"cannot open ({err.strerror or err})") from None
    if p.is_dir():
        raise AudioLoadError(p, "is a directory, not an audio file")
    if p.stat().st_size == 0:
        raise AudioLoadError(p, "empty file (0 bytes)")
    return p


def _backend(p: Path) -> ModuleType:
    """Pick the decoder module for a file: libsndfile when it can, else FFmpeg."""
    if p.suffix.lower() in SNDFILE_SUFFIXES and _sfdecode.can_read(p):
        return _sfdecode
    return _avdecode


def info(path: PathLike) -> AudioInfo:
    """Read a file's header.

    Raises:
        AudioLoadError: the file is missing, empty or not audio.
    """
    p = _check_file(path)
    return AudioInfo(path=str(p), **_backend(p).header(p), cut=bool(_ogg.is_cut(p)))


def load(
    path: PathLike,
    *,
    sample_rate: int | None = None,
    mono: bool = False,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    stream_index: int = 0,
) -> Waveform:
    """Decode a file (or a part of it) into a :class:`Waveform`.

    Args:
        path: wav, flac, ogg, aiff (libsndfile) or mp3, m4a/aac, opus, wma, … (FFmpeg).
        sample_rate: resample to this rate (soxr, very high quality); None keeps the file's.
        mono: average the channels.
        offset_s: start reading this many seconds in.
        duration_s: read at most this many seconds; None reads to the end.
        stream_index: which audio stream of a multi-stream file (e.g. the five stems of
            a MUSDB18 ``.stem.mp4``), counting audio streams only.

    Returns:
        Waveform with samples (channels, time), float32 in [-1, 1] for integer files.

    Raises:
        AudioLoadError: missing, empty, corrupt or undecodable file; no samples in
            the requested range; NaN or infinite samples.
    """
    blocks = list(_decoded_blocks(path, offset_s=offset_s, duration_s=duration_s,
                                  stream_index=stream_index))
    native_rate = blocks[0].sample_rate
    samples = np.concatenate([b.samples for b in blocks], axis=1)
    wav = Waveform(samples, native_rate)
    if mono:
        wav = wav.to_mono()
    if sample_rate is not None and sample_rate != native_rate:
        wav = resample(wav, sample_rate)
    return wav


def stream(
    path: PathLike,
    *,
    block_s: float,
    sample_rate: int | None = None,
    mono: bool = False,
) -> Iterator[Waveform]:
    """Decode a file block by block, so that a file of any length fits in memory.

    Blocks are ``block_s`` seconds long (the last one may be shorter); resampling
    is continuous across block boundaries, so concatenating the blocks gives the
    same audio as :func:`load`.

    Raises:
        AudioLoadError: as :func:`load`; a problem found mid-file is raised when
            the iterator reaches it.
    """
    if block_s <= 0:
        raise ValueError(f"block_s must be positive, got {block_s}")
    resampler: StreamResampler | None = None
    pending: list[np.ndarray] = []
    n_pending = 0
    out_rate = 0
    block_len = 0
    for raw in _decoded_blocks(path, offset_s=0.0, duration_s=None, stream_index=0):
        if resampler is None:
            out_rate = sample_rate or raw.sample_rate
            block_len = max(1, round(block_s * out_rate))
            resampler = StreamResampler(raw.sample_rate, out_rate, 1 if mono else raw.n_channels)
        chunk = resampler.push(raw.to_mono() if mono else raw)
        pending.append(chunk)
        n_pending += chunk.shape[1]
        while n_pending >= block_len:
            merged = np.concatenate(pending, axis=1)
            yield Waveform(merged[:, :block_len], out_rate)
            pending, n_pending = [merged[:, block_len:]], merged.shape[1] - block_len
    if resampler is not None:
        pending.append(resampler.flush())
        tail = np.concatenate(pending, axis=1)
        if tail.shape[1]:
            yield Waveform(tail, out_rate)


def count_audio_streams(path: PathLike) -> int:
    """How many audio streams a file holds (1 for everything libsndfile reads)."""
    p = _check_file(path)
    return 1 if _backend(p) is _sfdecode else _avdecode.count_audio_streams(p)


def _decoded_blocks(
    path: PathLike, *, offset_s: float, duration_s: float | None, stream_index: int
) -> Iterator[Waveform]:
    """Raw decoded blocks at the file's own rate and channel count, checked for sanity."""
    p = _check_file(path)
    if offset_s < 0:
        raise AudioLoadError(p, f"offset_s must be >= 0, got {offset_s}")
    if duration_s is not None and duration_s <= 0:
        raise AudioLoadError(p, f"duration_s must be > 0, got {duration_s}")
    n_samples = 0
    backend = _backend(p) if stream_index == 0 else _avdecode
    for block in backend.blocks(p, offset_s=offset_s, duration_s=duration_s,
                                stream_index=stream_index):
        # one float64 sum (cannot overflow) says whether any sample is NaN or infinite
        if not np.isfinite(np.sum(block.samples, dtype=np.float64)):
            bad = ~np.isfinite(block.samples)
            at_s = (n_samples + int(np.argmax(bad.any(axis=0)))) / block.sample_rate
            raise AudioLoadError(
                p, f"contains non-finite samples (NaN or Inf), first at {offset_s + at_s:.3f} s"
            )
        n_samples += block.n_samples
        if block.n_samples:
            yield block
    if n_samples == 0:
        where = f" after {offset_s:g} s" if offset_s else ""
        raise AudioLoadError(p, f"contains no audio samples{where}")
