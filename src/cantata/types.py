"""Value types passed between Cantata's layers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cantata.errors import ShapeError


@dataclass(frozen=True)
class Waveform:
    """Audio samples with their sample rate: the one audio value type of Cantata.

    Attributes:
        samples: float32 array, shape (channels, time), nominally in [-1, 1].
        sample_rate: samples per second per channel.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim == 1:
            samples = samples[np.newaxis, :]
        if samples.ndim != 2:
            raise ShapeError(f"Waveform samples must be (channels, time), got {samples.shape}")
        if samples.shape[0] < 1:
            raise ShapeError(f"Waveform needs at least one channel, got shape {samples.shape}")
        if int(self.sample_rate) <= 0:
            raise ShapeError(f"sample_rate must be positive, got {self.sample_rate}")
        object.__setattr__(self, "samples", samples.astype(np.float32, copy=False))
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


@dataclass(frozen=True)
class Stems:
    """The separated sources of one recording.

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
