"""Value types passed between Cantata's layers."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cantata.errors import ConfigError, ShapeError

#: the most channels a Waveform has; an array with more rows than this is (time, channels)
MAX_CHANNELS = 8


@dataclass(frozen=True)
class Waveform:
    """Audio samples with their sample rate: the one audio value type of Cantata.

    Attributes:
        samples: float32 array, shape (channels, time), nominally in [-1, 1].
        sample_rate: samples per second per channel.

    Any array is accepted as librosa and soundfile users hold it: 1-D is mono; a 2-D array
    with at most 8 rows is (channels, time); one with more rows but at most 8 columns is
    (time, channels), as ``soundfile.read`` returns it, and is transposed; anything else
    is a :class:`~cantata.errors.ShapeError`. Integer PCM is scaled to [-1, 1) floats
    (int16 by 1/32768, uint8 centred on 128, and so on).

    Example:
        >>> y = np.zeros((44100, 2), np.int16)        # y, sr = soundfile.read(path, dtype="int16")
        >>> Waveform(y, 44100).samples.shape
        (2, 44100)
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = _channels_first(np.asarray(self.samples))
        if samples.shape[0] < 1:
            raise ShapeError(f"Waveform needs at least one channel, got shape {samples.shape}")
        if int(self.sample_rate) <= 0:
            raise ShapeError(f"sample_rate must be positive, got {self.sample_rate}")
        object.__setattr__(self, "samples", _to_float(samples))
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def n_channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    def to_mono(self) -> Waveform:
        """Average the channels; shape (1, time)."""
        if self.n_channels == 1:
            return self
        return Waveform(self.samples.mean(axis=0, keepdims=True), self.sample_rate)


def _channels_first(samples: np.ndarray) -> np.ndarray:
    """(channels, time) by the rule of :class:`Waveform`."""
    if samples.ndim == 1:
        return samples[np.newaxis, :]
    if samples.ndim != 2:
        raise ShapeError(f"Waveform samples must be (channels, time), got {samples.shape}")
    rows, columns = samples.shape
    if rows <= MAX_CHANNELS:
        return samples
    if columns <= MAX_CHANNELS:
        return np.ascontiguousarray(samples.T)
    raise ShapeError(f"Waveform samples of shape {samples.shape} have more than "
                     f"{MAX_CHANNELS} channels either way: pass (channels, time) or "
                     f"(time, channels) with at most {MAX_CHANNELS} channels")


def _to_float(samples: np.ndarray) -> np.ndarray:
    """float32 samples; integer PCM scaled to [-1, 1)."""
    if samples.dtype.kind in "iu":
        bits = samples.dtype.itemsize * 8
        centre = 2.0 ** (bits - 1) if samples.dtype.kind == "u" else 0.0
        return ((samples - centre) / 2.0 ** (bits - 1)).astype(np.float32)
    return samples.astype(np.float32, copy=False)


#: what the public functions take: a file, a Waveform, or an array (its rate given apart)
Source = str | os.PathLike[str] | Waveform | np.ndarray


def as_source(src: Source, sr: int | None = None, *,
              sample_rate: int | None = None) -> str | os.PathLike[str] | Waveform:
    """What every public function takes: a file, a :class:`Waveform`, or an array and its rate.

    ``sr`` (librosa's name) and ``sample_rate`` are the same; an array (any layout
    :class:`Waveform` accepts, e.g. ``soundfile.read``'s) becomes a Waveform.

    Raises:
        ConfigError: an array without its rate, two different rates, or a rate given with
            a file or a Waveform of another rate.
    """
    if sr is not None and sample_rate is not None and int(sr) != int(sample_rate):
        raise ConfigError(f"sr={sr} and sample_rate={sample_rate} disagree: give one")
    rate = sr if sr is not None else sample_rate
    if isinstance(src, Waveform):
        if rate is not None and int(rate) != src.sample_rate:
            raise ConfigError(f"a Waveform at {src.sample_rate} Hz given with sr={rate}")
        return src
    if isinstance(src, str | os.PathLike):
        if rate is not None:
            raise ConfigError(f"{os.fspath(src)}: sr is for arrays; a file is read at "
                              "the file's own rate")
        return src
    if rate is None:
        raise ConfigError("an array needs its sample rate: pass it as sr=, e.g. "
                          "cantata.detect(y, sr=sr)")
    return Waveform(np.asarray(src), rate)


@dataclass(frozen=True)
class Segment:
    """A labelled time region: a training label or a detection.

    Attributes:
        start_s: start time in seconds.
        end_s: end time in seconds (> start_s).
        label: e.g. ``"vocal"``, ``"accompaniment"``, ``"silence"``, ``"speech"``.
        confidence: 1.0 for ground truth; the mean probability for detections.
    """

    start_s: float
    end_s: float
    label: str
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if not self.end_s > self.start_s >= 0:
            raise ShapeError(
                f"Segment needs 0 <= start_s < end_s, got {self.start_s}..{self.end_s}")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self, *, ndigits: int | None = None) -> dict[str, Any]:
        """``{"start_s", "end_s", "label", "confidence"}`` of plain (JSON) types, the times
        and confidence rounded to ``ndigits`` if given."""
        fields = asdict(self)
        for key in ("start_s", "end_s", "confidence"):
            value = float(fields[key])
            fields[key] = value if ndigits is None else round(value, ndigits)
        fields["label"] = str(fields["label"])
        return fields


@dataclass(frozen=True)
class Stems(Mapping[str, Waveform]):
    """The separated sources of one recording: a mapping stem name -> :class:`Waveform`
    (``"vocals" in stems``, ``stems.keys()``, ``stems.items()``, ``len(stems)``).

    Attributes:
        stems: stem name (e.g. ``"vocals"``, ``"accompaniment"``) -> Waveform, each at the
            input's sample rate and channel count and exactly as long as the input.
        sample_rate: the rate of every stem.
        input: the file separated, or None for a Waveform.
        skipped_s: seconds where the separator was skipped because no singing was
            detected (gated mode): the vocals are silent there and the accompaniment is
            the mixture.
    """

    stems: dict[str, Waveform]
    sample_rate: int
    input: str | None = None
    skipped_s: float = 0.0

    def __getitem__(self, name: str) -> Waveform:
        return self.stems[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.stems)

    def __len__(self) -> int:
        return len(self.stems)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.stems)


@dataclass(frozen=True)
class Embeddings:
    """Embeddings of the segments of one recording.

    Attributes:
        starts_s: where each segment starts, seconds, shape (n,).
        segment_s: the segments' length in seconds (the last may be cut short).
        vectors: float32, shape (n, dim).
        model_version: the embedder's weights identity (vectors of different models do
            not compare).
    """

    starts_s: np.ndarray
    segment_s: float
    vectors: np.ndarray
    model_version: str = ""

    def __post_init__(self) -> None:
        starts = np.asarray(self.starts_s, dtype=np.float64).reshape(-1)
        vectors = np.asarray(self.vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(starts):
            raise ShapeError(f"Embeddings need vectors (n, dim) for {len(starts)} starts, "
                             f"got {vectors.shape}")
        object.__setattr__(self, "starts_s", starts)
        object.__setattr__(self, "vectors", vectors)

    def __len__(self) -> int:
        return len(self.starts_s)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])
