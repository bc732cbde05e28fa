"""The embedding API: load an embedder once, embed the segments of files or arrays."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from cantata import audio
from cantata.errors import ModelLoadError
from cantata.features import FeatureExtractor
from cantata.models.embedder import EmbedderConfig, EmbeddingSystem, debug_embedder
from cantata.models.registry import load_checkpoint
from cantata.types import Embeddings, Waveform

PathLike = str | os.PathLike[str]
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
#: shipped model name -> checkpoint file stem in ``cantata/weights`` (``<stem>-<sha8>.pt``)
SHIPPED = {"embedder": "embedder"}
#: the shipped continuer of ``cantata continue`` (:mod:`cantata.embed.generate`)
CONTINUERS = {"continuer": "continuer"}
DEBUG_NAME = "debug"
BATCH = 64


class Embedder:
    """A music embedder: segments of a few seconds -> points of R^d, close when related.

    Example:
        >>> embedder = Embedder.from_pretrained("embedder")           # doctest: +SKIP
        >>> found = embedder.embed_segments("song.mp3", hop_s=1.5)     # doctest: +SKIP
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
        """A shipped embedder by name (see ``SHIPPED``), ``"debug"``, or a checkpoint.

        Raises:
            ModelLoadError: unknown name, missing weights, or not an embedder checkpoint.
        """
        name = os.fspath(name_or_path)
        if name == DEBUG_NAME:
            return cls(debug_embedder(), name=name, model_version=name)
        path = shipped_path(name) if name in SHIPPED else Path(name)
        model, checkpoint = load_checkpoint(path)
        if not isinstance(model, EmbeddingSystem):
            raise ModelLoadError(f"{path}: a {checkpoint.name!r} checkpoint, not an embedder")
        from cantata.analyzers.base import weights_identity

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

    def features_of(self, src: PathLike | Waveform) -> torch.Tensor:
        """The whole recording's features, (n_features, frames), mono at the model rate."""
        rate = self.config.features.sample_rate
        wav = audio.resample(src.to_mono(), rate) if isinstance(src, Waveform) else \
            audio.load(src, sample_rate=rate, mono=True)
        with torch.inference_mode():
            return self.extractor(torch.from_numpy(wav.samples))[0]

    def embed_segments(self, src: PathLike | Waveform, *,
                       hop_s: float | None = None) -> Embeddings:
        """Embeddings of ``segment_s``-long segments every ``hop_s`` (default: back to
        back) of a file or waveform; a recording shorter than a segment is one segment.

        Raises:
            AudioLoadError: the file cannot be read.
        """
        features = self.features_of(src)
        seg = max(1, round(self.segment_s * self.frames_per_s))
        hop = max(1, round((hop_s or self.segment_s) * self.frames_per_s))
        n_frames = features.shape[-1]
        starts = list(range(0, max(1, n_frames - seg + 1), hop))
        if n_frames - (starts[-1] + seg) > hop // 2:  # cover an end longer than half a hop
            starts.append(n_frames - seg)
        windows = [features[:, s:s + seg] for s in starts]
        return Embeddings(np.array(starts) / self.frames_per_s, self.segment_s,
                          self.embed_features(windows), self.model_version)

    def embed_features(self, windows: list[torch.Tensor]) -> np.ndarray:
        """Embeddings of feature windows (each (n_features, frames)), (n, dim) float32;
        windows of one length share batches."""
        out = np.zeros((len(windows), self.dim), np.float32)
        by_length: dict[int, list[int]] = {}
        for i, w in enumerate(windows):
            by_length.setdefault(int(w.shape[-1]), []).append(i)
        with torch.inference_mode():
            for indices in by_length.values():
                for start in range(0, len(indices), BATCH):
                    group = indices[start:start + BATCH]
                    batch = torch.stack([windows[i] for i in group])
                    out[group] = self.model(batch).numpy()
        return out


def shipped_path(name: str) -> Path:
    """The checkpoint file of a shipped embedder or continuer
    (``cantata/weights/<stem>-<sha8>.pt``).

    Raises:
        ModelLoadError: no such file (not trained and shipped yet).
    """
    stem = {**SHIPPED, **CONTINUERS}[name]
    found = sorted(WEIGHTS_DIR.glob(f"{stem}-[0-9a-f]*.pt"))
    if not found:
        hint = "train it with `cantata train continuer`" if name in CONTINUERS else \
            "train it with `cantata train embedder`, or use --model debug"
        raise ModelLoadError(f"the shipped model {name!r} has no weights in {WEIGHTS_DIR}; "
                             f"{hint}")
    return found[-1]
