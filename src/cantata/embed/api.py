"""The embedding API: load an embedder once, embed the segments of files or arrays."""

from __future__ import annotations

import os

import numpy as np
import torch

from cantata import audio
from cantata.capabilities import model_path, weights_identity
from cantata.engine import run_batches, segment_starts
from cantata.errors import ModelLoadError
from cantata.features import FeatureExtractor
from cantata.models.embedder import EmbedderConfig, EmbeddingSystem, debug_embedder
from cantata.models.registry import load_checkpoint
from cantata.types import Embeddings, Source, Waveform, as_source

PathLike = str | os.PathLike[str]
DEBUG_NAME = "debug"
BATCH = 64


class Embedder:
    """A music embedder: segments of a few seconds -> points of R^d, close when related.

    Example:
        >>> embedder = Embedder.from_pretrained("embedder")           # doctest: +SKIP
        >>> found = embedder.embed("song.mp3", hop_s=1.5)              # doctest: +SKIP
        >>> found.vectors.shape                                        # doctest: +SKIP
        (159, 64)
    """

    def __init__(self, system: EmbeddingSystem, *, name: str = "",
                 model_version: str = "", similarity: str = "euclidean") -> None:
        self.model = system.eval()
        self.config: EmbedderConfig = system.config
        self.name, self.model_version = name, model_version
        #: what it trained to rank by, and searches rank by: "euclidean" or "cosine"
        self.similarity = similarity
        self.extractor = FeatureExtractor(self.config.features)

    @classmethod
    def from_pretrained(cls, name_or_path: PathLike = "embedder") -> Embedder:
        """A shipped embedder by name (``cantata models``), ``"debug"``, or a checkpoint.

        Raises:
            ModelLoadError: unknown name, missing weights, or not an embedder checkpoint.
        """
        name = os.fspath(name_or_path)
        if name == DEBUG_NAME:
            return cls(debug_embedder(), name=name, model_version=name)
        path = model_path(name, "embed")
        model, checkpoint = load_checkpoint(path)
        if not isinstance(model, EmbeddingSystem):
            raise ModelLoadError(f"{path}: a {checkpoint.name!r} checkpoint, not an embedder")
        return cls(model, name=name, model_version=weights_identity(path),
                   similarity=checkpoint.meta.get("similarity", "euclidean"))

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def segment_s(self) -> float:
        return self.config.segment_s

    @property
    def frames_per_s(self) -> float:
        return self.config.features.sample_rate / self.config.features.hop_length

    def features_of(self, src: Source, sr: int | None = None, *,
                    sample_rate: int | None = None) -> torch.Tensor:
        """The whole recording's features, (n_features, frames), mono at the model rate.

        ``src`` is a file, a Waveform, or an array with its rate ``sr`` (as :meth:`embed`).
        """
        src = as_source(src, sr, sample_rate=sample_rate)
        rate = self.config.features.sample_rate
        wav = audio.resample(src.to_mono(), rate) if isinstance(src, Waveform) else \
            audio.load(src, sample_rate=rate, mono=True)
        with torch.inference_mode():
            return self.extractor(torch.from_numpy(wav.samples))[0]

    def embed(self, src: Source, sr: int | None = None, *, sample_rate: int | None = None,
              hop_s: float | None = None) -> Embeddings:
        """Embeddings of ``segment_s``-long segments every ``hop_s`` (default: back to
        back) of a recording; a recording shorter than a segment is one segment.

        Args:
            src: an audio file, a Waveform, or an array ``y`` in any layout
                :class:`~cantata.types.Waveform` accepts (e.g. ``soundfile.read``'s).
            sr: the array's sample rate (librosa's name; ``sample_rate=`` is the same).
            hop_s: seconds between segment starts.

        Raises:
            AudioLoadError: the file cannot be read.
            ConfigError: an array without its rate.
        """
        features = self.features_of(src, sr, sample_rate=sample_rate)
        seg = max(1, round(self.segment_s * self.frames_per_s))
        hop = max(1, round((hop_s or self.segment_s) * self.frames_per_s))
        starts = segment_starts(features.shape[-1], length=seg, hop=hop)
        windows = [features[:, s:s + seg] for s in starts]
        return Embeddings(np.array(starts) / self.frames_per_s, self.segment_s,
                          self.embed_features(windows), self.model_version)

    #: the earlier name of :meth:`embed`
    embed_segments = embed

    def embed_features(self, windows: list[torch.Tensor]) -> np.ndarray:
        """Embeddings of feature windows (each (n_features, frames)), (n, dim) float32;
        windows of one length share batches."""
        with torch.inference_mode():
            vectors = run_batches(windows, self._forward, key=lambda w: int(w.shape[-1]),
                                  batch_size=BATCH)
        return np.array(vectors, np.float32).reshape(len(windows), self.dim)

    def _forward(self, windows: list[torch.Tensor]) -> np.ndarray:
        """One forward pass of equal-length windows; (batch, dim)."""
        return self.model(torch.stack(windows)).numpy()


def embed(src: Source, sr: int | None = None, *, sample_rate: int | None = None,
          model: str = "embedder", hop_s: float | None = None) -> Embeddings:
    """Embeddings of a recording's segments, with a shipped model (loaded once per name).

    Args:
        src: an audio file, a :class:`~cantata.types.Waveform`, or an array ``y`` of
            samples: (time,), (channels, time), or (time, channels) as ``soundfile.read``
            gives it; integer PCM is scaled to [-1, 1).
        sr: the array's sample rate (librosa's name; ``sample_rate=`` is the same).
        model: ``"embedder"``, a checkpoint path, or ``"debug"``.
        hop_s: seconds between segment starts (default: back to back).

    Returns:
        :class:`~cantata.types.Embeddings`: ``starts_s`` (n,) and ``vectors`` (n, dim).

    Example:
        >>> y, sr = soundfile.read("song.wav")           # doctest: +SKIP
        >>> cantata.embed(y, sr=sr).vectors.shape        # doctest: +SKIP
        (80, 64)
    """
    return _cached(model).embed(src, sr, sample_rate=sample_rate, hop_s=hop_s)


_EMBEDDERS: dict[str, Embedder] = {}


def _cached(name: str) -> Embedder:
    if name not in _EMBEDDERS:
        _EMBEDDERS[name] = Embedder.from_pretrained(name)
    return _EMBEDDERS[name]
