"""Training a tagger: one binary cross-entropy per tag on chunks of labelled recordings.

Training items are random ``chunk_s`` chunks of the recordings (a recording's tags hold
for each of its chunks): ``{"features": (n_mels, frames), "target": (tags,), "song": ()}``.
Validation takes ``val_chunks`` evenly spaced chunks of each validation recording, pools
their probabilities by song (the mean, as inference does) and reports per tag the ROC-AUC
(where both classes occur), the F1 at the F1-optimal threshold and that threshold; the
selection metric is the mean ROC-AUC over tags (0.5 when no tag has both classes).

Distilling (every recording has a teacher file, :class:`~cantata.tag.labels.TeacherScores`),
items are the teacher's own chunks (:class:`TeacherChunks`) and the targets its scores,
overridden by the honest labels; validation reports the same figures against the
teacher's decisions (a song's mean target >= ``decision``) and selects by the loss
against the soft targets (lower is better).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cantata import audio
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.tag.labels import TagItem, read_teacher
from cantata.tag.postprocess import best_f1_threshold, roc_auc


class TagTask:
    """Per-tag binary cross-entropy; validation by song (module doc)."""

    def __init__(self, tags: Sequence[str], *, soft: bool = False,
                 decision: float = 0.5) -> None:
        self.tags, self.decision = tuple(tags), decision
        self.metric, self.higher_is_better = ("loss", False) if soft else ("roc_auc", True)

    def training_step(self, model: nn.Module, batch: dict[str, torch.Tensor]
                      ) -> tuple[torch.Tensor, dict[str, float]]:
        loss = F.binary_cross_entropy_with_logits(model(batch["features"]), batch["target"])
        return loss, {"loss": float(loss.detach())}

    def evaluate(self, model: nn.Module, batches: Iterable[dict[str, torch.Tensor]]
                 ) -> dict[str, float]:
        probs, targets, songs, losses = [], [], [], []
        for batch in batches:
            logits = model(batch["features"])
            losses.append(float(F.binary_cross_entropy_with_logits(logits, batch["target"])))
            probs.append(torch.sigmoid(logits).numpy())
            targets.append(batch["target"].numpy())
            songs.append(batch["song"].numpy())
        scores, truth = by_song(np.concatenate(probs), np.concatenate(targets),
                                np.concatenate(songs), self.decision)
        return {"loss": float(np.mean(losses)), **tag_metrics(scores, truth, self.tags)}


def by_song(probs: np.ndarray, targets: np.ndarray, songs: np.ndarray,
            decision: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Chunk probabilities (chunks, tags) averaged per song: (songs, tags) scores and
    the songs' bool targets (the mean of their chunks' targets >= ``decision``)."""
    ids = np.unique(songs)
    return (np.stack([probs[songs == s].mean(axis=0) for s in ids]),
            np.stack([targets[songs == s].mean(axis=0) >= decision for s in ids]))


def tag_metrics(scores: np.ndarray, targets: np.ndarray, tags: Sequence[str]
                ) -> dict[str, float]:
    """``roc_auc/<tag>`` (where defined), ``f1/<tag>`` and ``threshold/<tag>`` (F1-optimal),
    and the means ``roc_auc`` (0.5 when undefined for every tag) and ``f1``."""
    out: dict[str, float] = {}
    aucs, f1s = [], []
    for i, name in enumerate(tags):
        auc = roc_auc(scores[:, i], targets[:, i])
        if auc is not None:
            out[f"roc_auc/{name}"] = auc
            aucs.append(auc)
        threshold, f1 = best_f1_threshold(scores[:, i], targets[:, i])
        out[f"threshold/{name}"], out[f"f1/{name}"] = threshold, f1
        f1s.append(f1)
    out["roc_auc"] = float(np.mean(aucs)) if aucs else 0.5
    out["f1"] = float(np.mean(f1s))
    return out


class TagChunks(torch.utils.data.Dataset):
    """Chunks of labelled recordings as log-mel with their tags (module doc).

    With ``length``, item ``i`` of epoch ``e`` is a random chunk of a random recording, a
    function of ``(seed, e, i)``; without, each recording gives ``val_chunks`` evenly
    spaced chunks, in order.
    """

    def __init__(self, items: Sequence[TagItem], *, tags: Sequence[str],
                 features: FeatureConfig, chunk_s: float, length: int | None = None,
                 val_chunks: int = 4, seed: int = 0) -> None:
        self.items, self.tags, self.features = list(items), tuple(tags), features
        self.chunk_s, self.length, self.val_chunks = chunk_s, length, val_chunks
        self.seed, self.epoch = seed, 0
        self.extractor: FeatureExtractor | None = None  # made in the process that reads
        self._durations: dict[int, float] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length if self.length is not None else len(self.items) * self.val_chunks

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.length is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            song = int(rng.integers(len(self.items)))
            position = float(rng.random())
        else:
            song, k = divmod(index, self.val_chunks)
            position = (k + 0.5) / self.val_chunks
        item = self.items[song]
        start = max(0.0, self.duration(song) - self.chunk_s) * position
        return {"features": self.chunk(item.audio, start),
                "target": torch.tensor([float(t in item.tags) for t in self.tags]),
                "song": torch.tensor(song)}

    def duration(self, song: int) -> float:
        if song not in self._durations:
            self._durations[song] = audio.info(self.items[song].audio).duration_s
        return self._durations[song]

    def chunk(self, path: str, start_s: float) -> torch.Tensor:
        """Log-mel (n_mels, frames) of ``chunk_s`` from ``start_s``, zero-padded."""
        rate = self.features.sample_rate
        wav = audio.load(path, sample_rate=rate, mono=True, offset_s=start_s,
                         duration_s=self.chunk_s)
        n = round(self.chunk_s * rate)
        x = np.zeros(n, np.float32)
        x[:min(n, wav.samples.shape[-1])] = wav.samples[0, :n]
        if self.extractor is None:
            self.extractor = FeatureExtractor(self.features)
        with torch.no_grad():
            return self.extractor(torch.from_numpy(x)[None])[0]


class TeacherChunks(torch.utils.data.Dataset):
    """The teacher's chunks of recordings as log-mel with soft targets (module doc).

    With ``length``, item ``i`` of epoch ``e`` is a chunk drawn uniformly from all the
    chunks, shifted by up to ``jitter_s``, a function of ``(seed, e, i)``; without, each
    recording gives up to ``val_chunks`` evenly spaced chunks of its teacher's, in order.
    Each recording's whole log-mel is computed once and kept (float16).
    """

    def __init__(self, items: Sequence[TagItem], *, tags: Sequence[str],
                 features: FeatureConfig, chunk_s: float, length: int | None = None,
                 val_chunks: int = 8, seed: int = 0, jitter_s: float = 0.1) -> None:
        self.items, self.tags, self.features = list(items), tuple(tags), features
        self.chunk_s, self.length, self.seed, self.epoch = chunk_s, length, seed, 0
        self.jitter_s = jitter_s if length is not None else 0.0
        self.starts, self.targets = [], []
        for item in self.items:
            teacher = read_teacher(str(item.teacher))
            self.starts.append(teacher.starts)
            self.targets.append(teacher.targets(item, self.tags))
        if length is None:
            self.index = [(song, int(k)) for song, starts in enumerate(self.starts)
                          for k in np.unique(np.linspace(0, len(starts) - 1, val_chunks)
                                             .round().astype(int))]
        else:
            self.index = [(song, k) for song, starts in enumerate(self.starts)
                          for k in range(len(starts))]
        self.extractor: FeatureExtractor | None = None
        self._logmel: dict[int, np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length if self.length is not None else len(self.index)

    def __getitem__(self, index: int) -> dict[str, Any]:
        shift = 0.0
        if self.length is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            song, k = self.index[int(rng.integers(len(self.index)))]
            shift = float(rng.uniform(-self.jitter_s, self.jitter_s))
        else:
            song, k = self.index[index]
        return {"features": self.chunk(song, float(self.starts[song][k]) + shift),
                "target": torch.from_numpy(self.targets[song][k]),
                "song": torch.tensor(song)}

    def chunk(self, song: int, start_s: float) -> torch.Tensor:
        """Log-mel (n_mels, frames) of ``chunk_s`` from ``start_s``, zero-padded."""
        logmel = self.logmel(song)
        rate = self.features.sample_rate / self.features.hop_length
        frames = max(1, round(self.chunk_s * rate))
        first = min(max(0, round(start_s * rate)), max(0, logmel.shape[1] - frames))
        out = np.zeros((logmel.shape[0], frames), np.float32)
        part = logmel[:, first:first + frames]
        out[:, :part.shape[1]] = part
        return torch.from_numpy(out)

    def logmel(self, song: int) -> np.ndarray:
        if song not in self._logmel:
            if self.extractor is None:
                self.extractor = FeatureExtractor(self.features)
            wav = audio.load(self.items[song].audio, sample_rate=self.features.sample_rate,
                             mono=True)
            with torch.no_grad():
                full = self.extractor(torch.from_numpy(wav.samples[:1]))[0]
            self._logmel[song] = full.numpy().astype(np.float16)
        return self._logmel[song]
