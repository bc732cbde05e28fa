"""Writing audio files atomically, never overwriting unless asked."""

from __future__ import annotations

import contextlib
import logging
import os
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import soundfile as sf

from cantata.errors import AudioSaveError
from cantata.files import atomic_output, exists_problem
from cantata.types import Waveform

log = logging.getLogger(__name__)

#: Output formats by suffix, and the sample formats each accepts.
FORMATS = {".wav": ("WAV", {"PCM_16", "PCM_24", "FLOAT"}), ".flac": ("FLAC", {"PCM_16", "PCM_24"})}
#: Short names accepted for ``subtype`` (the CLI's ``--bits``).
SUBTYPE_ALIASES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT", "float": "FLOAT"}


def save(
    path: str | os.PathLike[str],
    wav: Waveform,
    *,
    subtype: str = "PCM_16",
    overwrite: bool = False,
) -> Path:
    """Write a waveform to ``path``; the suffix picks the format (.wav or .flac).

    The file is written to a temporary name in the same folder and renamed into
    place, so a reader never sees a half-written file and a crash leaves no debris
    under the real name.

    Args:
        path: destination, ``.wav`` or ``.flac``.
        wav: samples (channels, time).
        subtype: ``"PCM_16"`` (or ``"16"``), ``"PCM_24"`` (``"24"``), or ``"FLOAT"``
            (``"32f"``, wav only). Integer formats clip samples outside [-1, 1].
        overwrite: replace an existing file; without it an existing file is an error.

    Returns:
        The path written.

    Raises:
        AudioSaveError: unknown suffix or subtype, file exists, non-finite samples,
            or the folder is not writable.
    """
    dest = Path(path)
    fmt, subtype = _resolve_format(dest, subtype)
    if dest.exists() and not overwrite:
        raise AudioSaveError(dest, exists_problem("overwrite=True"))
    samples = _checked_samples(dest, wav, subtype)
    tmp = None
    try:
        with (atomic_output(dest, overwrite=True, parents=False) as tmp,
              tmp.open("wb") as handle):
            sf.write(handle, samples.T, wav.sample_rate, subtype=subtype, format=fmt)
    except (OSError, sf.LibsndfileError) as err:
        if tmp is None:
            raise AudioSaveError(dest, f"cannot write in {dest.parent} ({err.strerror})") from err
        raise AudioSaveError(dest, f"write failed ({err})") from err
    return dest


def _resolve_format(dest: Path, subtype: str) -> tuple[str, str]:
    suffix = dest.suffix.lower()
    if suffix not in FORMATS:
        raise AudioSaveError(dest, f"unsupported output format {suffix!r} (use .wav or .flac)")
    fmt, allowed = FORMATS[suffix]
    subtype = SUBTYPE_ALIASES.get(subtype, subtype).upper()
    if subtype not in allowed:
        raise AudioSaveError(dest, f"{suffix} cannot hold {subtype} (use one of {sorted(allowed)})")
    return fmt, subtype


def _checked_samples(dest: Path, wav: Waveform, subtype: str) -> np.ndarray:
    samples = wav.samples
    if not np.isfinite(samples).all():
        raise AudioSaveError(dest, "samples contain NaN or Inf")
    if subtype != "FLOAT":
        peak = float(np.abs(samples).max(initial=0.0))
        if peak > 1.0:
            log.warning("%s: clipping %s samples above full scale (peak %.2f)", dest,
                        int((np.abs(samples) > 1.0).sum()), peak)
            samples = np.clip(samples, -1.0, 1.0)
    return samples


#: Lossy formats :func:`open_writer` encodes, and the bitrate each gets by default.
LOSSY_BITRATES = {"mp3": "320k", "ogg": "256k", "opus": "192k", "m4a": "256k"}
#: FFmpeg muxer and encoder (PyAV) of each lossy format but ogg, which libsndfile's Vorbis
#: encodes (FFmpeg's own Vorbis encoder is experimental and stereo-only).
_AV_CODECS = {"mp3": ("mp3", "libmp3lame"), "opus": ("opus", "libopus"), "m4a": ("ipod", "aac")}
#: Vorbis quality (0-10) -> nominal stereo bitrate in kbit/s, from the encoder's documentation
_VORBIS_KBPS = (64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 500)


class AudioWriter(ABC):
    """An audio file written block by block: :meth:`write` (channels, time), then :meth:`close`.

    Create it with :func:`open_writer`. Failures raise :class:`AudioSaveError`.
    """

    def __init__(self, path: Path) -> None:
        self.path, self.closed = path, False

    @abstractmethod
    def write(self, samples: np.ndarray) -> None:
        """Append float samples (channels, time) in [-1, 1]."""

    @abstractmethod
    def close(self) -> None:
        """Finish the file (flush the encoder); further writes are an error."""

    def discard(self) -> None:
        """Close without finishing, raising nothing (the file is to be deleted)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                self._release()

    @abstractmethod
    def _release(self) -> None:
        """Free the encoder and the file, without finishing it."""


def parse_bitrate(text: str | int) -> int:
    """Bits per second from ``"320k"``, ``"320"`` (kbit/s, as Demucs takes it) or ``320000``.

    Raises:
        AudioSaveError: not a number, or outside 8k-512k.
    """
    raw = str(text).strip().lower()
    digits = raw[:-1] if raw.endswith("k") else raw
    if not digits.isdigit():
        raise AudioSaveError("--bitrate", f"expected e.g. 320k, got {text!r}")
    value = int(digits)
    bps = value * 1000 if raw.endswith("k") or value < 1000 else value
    if not 8_000 <= bps <= 512_000:
        raise AudioSaveError("--bitrate", f"must be between 8k and 512k, got {text!r}")
    return bps


def open_writer(path: str | os.PathLike[str], *, format: str, sample_rate: int,
                n_channels: int, subtype: str = "PCM_16",
                bitrate: str | int | None = None) -> AudioWriter:
    """Open ``path`` for writing audio block by block, whatever its name's suffix.

    Args:
        format: ``wav``, ``flac`` (``subtype`` applies), or a lossy format of
            :data:`LOSSY_BITRATES` (``bitrate`` applies; its default there). Opus is
            written at 48 kHz unless the input's rate is one Opus takes; mp3 and m4a at
            48 kHz when they cannot take the input's rate.
        subtype: sample format of wav and flac, as :func:`save` takes it.
        bitrate: e.g. ``"320k"`` (see :func:`parse_bitrate`); a target for ogg's VBR Vorbis.

    Raises:
        AudioSaveError: unknown format, a format that cannot hold this audio, or the file
            cannot be created.
    """
    path = Path(path)
    if format in LOSSY_BITRATES:
        bps = parse_bitrate(bitrate or LOSSY_BITRATES[format])
        if format == "ogg":
            return _SoundFileWriter(path, samplerate=sample_rate, channels=n_channels,
                                    format="OGG", subtype="VORBIS",
                                    compression_level=_vorbis_level(bps, n_channels))
        return _AvWriter(path, format, sample_rate=sample_rate, n_channels=n_channels, bps=bps)
    fmt, subtype = _resolve_format(Path(f"{path}.{format}"), subtype)
    return _SoundFileWriter(path, samplerate=sample_rate, channels=n_channels, format=fmt,
                            subtype=subtype)


def _vorbis_level(bps: int, n_channels: int) -> float:
    """libsndfile's compression level (1 - quality / 10) whose nominal bitrate is ``bps``."""
    stereo_kbps = bps / 1000 * 2 / max(1, min(n_channels, 2))
    quality = float(np.interp(stereo_kbps, _VORBIS_KBPS, np.arange(len(_VORBIS_KBPS))))
    return 1.0 - quality / 10


class _SoundFileWriter(AudioWriter):
    """wav, flac and ogg (Vorbis) through libsndfile."""

    def __init__(self, path: Path, **settings: object) -> None:
        super().__init__(path)
        try:
            self.handle = sf.SoundFile(path, "w", **settings)  # type: ignore[arg-type]
        except (OSError, sf.LibsndfileError) as err:
            raise AudioSaveError(path, f"cannot write ({err})") from err

    def write(self, samples: np.ndarray) -> None:
        try:
            self.handle.write(np.ascontiguousarray(samples.T))
        except (OSError, sf.LibsndfileError) as err:
            raise AudioSaveError(self.path, f"write failed ({err})") from err

    def close(self) -> None:
        self.closed = True
        try:
            self._release()
        except (OSError, sf.LibsndfileError) as err:
            raise AudioSaveError(self.path, f"write failed ({err})") from err

    def _release(self) -> None:
        self.handle.close()


class _AvWriter(AudioWriter):
    """mp3, opus and m4a through FFmpeg's encoders (PyAV), which resample and frame."""

    def __init__(self, path: Path, format: str, *, sample_rate: int, n_channels: int,
                 bps: int) -> None:
        import av

        super().__init__(path)
        muxer, codec = _AV_CODECS[format]
        rates = av.codec.Codec(codec, "w").audio_rates or (sample_rate,)
        self.rate, self.layout = sample_rate, av.AudioLayout(f"{n_channels}c").name
        try:
            self.container = av.open(str(path), "w", format=muxer)
        except (av.FFmpegError, OSError) as err:
            raise AudioSaveError(path, f"cannot write ({err})") from err
        try:
            self.stream = self.container.add_stream(
                codec, rate=sample_rate if sample_rate in rates else 48000, layout=self.layout)
            self.stream.bit_rate = bps
            self.stream.codec_context.open()
        except (av.FFmpegError, OSError, ValueError) as err:
            self.discard()
            raise AudioSaveError(path, f"cannot encode {format} of {n_channels} channel(s) "
                                       f"at {sample_rate} Hz, {bps // 1000}k ({err})") from err

    def write(self, samples: np.ndarray | None) -> None:
        import av

        frame = None
        if samples is not None:
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples, dtype=np.float32), format="fltp",
                layout=self.layout)
            frame.sample_rate = self.rate
        try:
            self.container.mux(self.stream.encode(frame))
        except (av.FFmpegError, OSError, ValueError) as err:
            raise AudioSaveError(self.path, f"encoding failed ({err})") from err

    def close(self) -> None:
        try:
            self.write(None)  # flush the encoder
        finally:
            self.closed = True
            self._release()

    def _release(self) -> None:
        self.container.close()
