"""Training a frame detector (speech or singing): audio crops in, frame labels out.

Batches are ``{"audio": (batch, time), "labels": (batch, n_labels, frames),
"mask": (batch, frames)}``; the task computes the model's features on the fly with
the model's own :class:`~cantata.features.FeatureConfig`, so training and inference
see exactly the same features.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cantata import audio
from cantata.data.labels import SONG_LABELS, ActivityConfig, song_segments
from cantata.data.mixing import DynamicMixDataset
from cantata.data.records import Example
from cantata.data.sources import read_stems
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.regions import segments_to_frames
from cantata.types import Waveform

#: the features every detector of this project is trained on: 16 kHz, 20 ms frames
DETECTOR_FEATURES = FeatureConfig(
    kind="logmel", sample_rate=16000, n_fft=1024, hop_length=320, n_mels=80
)


class DetectionTask:
    """Per-frame multi-label classification with a sigmoid per label.

    The loss is class-balanced binary cross-entropy: in every batch, positive and
    negative frames of each label weigh half each, whatever their proportions (songs
    are mostly sung, so plain BCE learns to call doubtful frames vocal). The selection
    metric is the balanced accuracy of the first label (``vocal`` or ``speech``) — the
    mean of the recalls on positive and negative frames, which an always-vocal detector
    cannot game — at the decision threshold that maximises it on the validation set;
    that threshold is reported per label as ``threshold/<label>`` and kept with the
    checkpoint, where inference reads it.
    """

    metric = "balanced_accuracy"
    higher_is_better = True

    def __init__(self, features: FeatureConfig, labels: Sequence[str]) -> None:
        self.labels = tuple(labels)
        self.extractor = FeatureExtractor(features)

    def logits(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Model outputs aligned with the batch's label frames; (batch, labels, frames)."""
        with torch.no_grad():
            features = self.extractor(batch["audio"])
        logits = model(features)
        return logits[..., : batch["labels"].shape[-1]]

    def training_step(
        self, model: nn.Module, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        logits = self.logits(model, batch)
        mask = batch["mask"][:, None, : logits.shape[-1]].expand_as(logits)
        target = batch["labels"][..., : logits.shape[-1]]
        loss = balanced_bce(logits, target, mask)
        return loss, {"loss": float(loss.detach())}

    def evaluate(
        self, model: nn.Module, batches: Iterable[dict[str, torch.Tensor]]
    ) -> dict[str, float]:
        probs: list[list[np.ndarray]] = [[] for _ in self.labels]
        targets: list[list[np.ndarray]] = [[] for _ in self.labels]
        losses = []
        with torch.no_grad():
            for batch in batches:
                logits = self.logits(model, batch)
                mask = batch["mask"][:, None, : logits.shape[-1]].expand_as(logits)
                target = batch["labels"][..., : logits.shape[-1]]
                losses.append(float(balanced_bce(logits, target, mask)))
                for i in range(len(self.labels)):
                    valid = mask[:, i]
                    probs[i].append(torch.sigmoid(logits[:, i][valid]).numpy())
                    targets[i].append(target[:, i][valid].numpy() > 0.5)
        metrics = {"loss": float(np.mean(losses))}
        for i, label in enumerate(self.labels):
            p, t = np.concatenate(probs[i]), np.concatenate(targets[i])
            threshold = best_threshold(p, t)
            scores = frame_scores(*counts_at(p, t, threshold))
            scores["balanced_accuracy@0.5"] = frame_scores(*counts_at(p, t, 0.5))[
                "balanced_accuracy"]
            scores["threshold"] = threshold
            if i == 0:
                metrics.update(scores)
            metrics.update({f"{name}/{label}": v for name, v in scores.items()})
        return metrics

    def parameters(self, model: nn.Module) -> Iterable[nn.Parameter]:
        return [p for p in model.parameters() if p.requires_grad]


def balanced_bce(logits: torch.Tensor, target: torch.Tensor,
                 mask: torch.Tensor) -> torch.Tensor:
    """BCE where, per label, positive and negative frames weigh half each.

    Shapes: (batch, labels, frames) each; ``mask`` is bool.
    """
    m = mask.float()
    positives = (target * m).sum(dim=(0, 2), keepdim=True) / m.sum(dim=(0, 2), keepdim=True)
    positives = positives.clamp(0.05, 0.95)  # a batch with (almost) one class stays sane
    weight = torch.where(target > 0.5, 0.5 / positives, 0.5 / (1 - positives)) * m
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (loss * weight).sum() / m.sum()


THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)


def counts_at(probs: np.ndarray, target: np.ndarray, threshold: float) -> tuple[int, ...]:
    """(tp, fp, tn, fn) of ``probs > threshold`` against bool ``target``."""
    pred = probs > threshold
    return (int(np.sum(pred & target)), int(np.sum(pred & ~target)),
            int(np.sum(~pred & ~target)), int(np.sum(~pred & target)))


def best_threshold(probs: np.ndarray, target: np.ndarray) -> float:
    """The threshold (0.05 steps) with the highest balanced accuracy; 0.5 on ties."""
    scores = [frame_scores(*counts_at(probs, target, t))["balanced_accuracy"]
              for t in THRESHOLDS]
    best = max(scores)
    candidates = [t for t, s in zip(THRESHOLDS, scores, strict=True) if s >= best - 1e-9]
    return float(min(candidates, key=lambda t: abs(t - 0.5)))


def frame_scores(tp: float, fp: float, tn: float, fn: float) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and balanced accuracy from frame counts."""

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    specificity = ratio(tn, tn + fp)
    return {
        "accuracy": ratio(tp + tn, tp + fp + tn + fn),
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall),
        "balanced_accuracy": (recall + specificity) / 2,
        "positive_rate": ratio(tp + fn, tp + fp + tn + fn),
    }


class CropDataset(torch.utils.data.Dataset):
    """Random crops of labelled recordings (e.g. the factory's speech mixes or songs).

    Item ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``.
    """

    def __init__(
        self,
        examples: Sequence[Example],
        *,
        labels: Sequence[str],
        segment_s: float,
        features: FeatureConfig,
        length: int,
        seed: int = 0,
    ) -> None:
        self.examples, self.labels = list(examples), tuple(labels)
        self.segment_s, self.features = segment_s, features
        self.length, self.seed, self.epoch = length, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        example = self.examples[rng.integers(len(self.examples))]
        n = round(self.segment_s * self.features.sample_rate)
        offset_s = float(rng.uniform(0.0, max(example.duration_s - self.segment_s, 0.0)))
        wav = audio.load(
            example.audio,
            sample_rate=self.features.sample_rate,
            mono=True,
            offset_s=offset_s,
            duration_s=self.segment_s,
        )
        x = np.zeros(n, np.float32)
        x[: wav.n_samples] = wav.samples[0, :n]
        return frame_item(
            x,
            example.regions,
            self.labels,
            self.features,
            offset_s=offset_s,
            valid_samples=min(wav.n_samples, n),
        )


class MixedSongs(torch.utils.data.Dataset):
    """Items of a :class:`DynamicMixDataset` as detection items (mono audio, chosen labels).

    The mixer labels ``ceil(time / hop)`` frames; the features have ``1 + time // hop``;
    the labels are padded with their last frame to match the features.
    """

    def __init__(self, mixes: DynamicMixDataset, *, labels: Sequence[str],
                 features: FeatureConfig) -> None:
        self.mixes, self.rows = mixes, [SONG_LABELS.index(label) for label in labels]
        self.features = features

    def set_epoch(self, epoch: int) -> None:
        self.mixes.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.mixes)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = self.mixes[index]
        mono = item["mixture"].mean(dim=0)
        n_frames = self.features.n_frames(len(mono))
        labels = item["labels"][self.rows][:, :n_frames]
        if labels.shape[-1] < n_frames:
            labels = F.pad(labels, (0, n_frames - labels.shape[-1]), mode="replicate")
        return {"audio": mono, "labels": labels,
                "mask": torch.ones(n_frames, dtype=torch.bool)}


class ClipWindows(torch.utils.data.Dataset):
    """Whole recordings cut into fixed windows, for evaluation.

    Examples with ``audio`` and ``regions`` (the factory's output, a labelled corpus)
    are used as they are. Examples with only stems follow the usual MIR-1K protocol:
    vocals and accompaniment scaled to equal energy and summed, labels from the clean
    stems. The last window of a recording is zero-padded and its padding masked out,
    so every frame is scored exactly once.
    """

    def __init__(
        self,
        examples: Sequence[Example],
        *,
        labels: Sequence[str],
        window_s: float,
        features: FeatureConfig,
        activity: ActivityConfig | None = None,
    ) -> None:
        self.items: list[dict[str, torch.Tensor]] = []
        for example in examples:
            if example.audio and example.regions:
                wav = audio.load(example.audio, sample_rate=features.sample_rate, mono=True)
                mixture, segments = wav.samples[0], example.regions
            else:
                stems = read_stems(example, sample_rate=features.sample_rate)
                mono = {k: v.to_mono() for k, v in stems.items()}
                mixture = mix_at_0db(mono["vocals"], mono["accompaniment"])
                segments = song_segments(mono, activity or ActivityConfig())
            self.items += windows(mixture, segments, labels, features, window_s=window_s)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.items[index]


def mix_at_0db(vocals: Waveform, accompaniment: Waveform) -> np.ndarray:
    """vocals + accompaniment after scaling both to equal energy; (time,)."""
    v, a = vocals.samples[0], accompaniment.samples[0]
    n = min(len(v), len(a))
    v, a = v[:n], a[:n]
    rms_v, rms_a = np.sqrt(np.mean(v**2)) + 1e-9, np.sqrt(np.mean(a**2)) + 1e-9
    mix = v / rms_v + a / rms_a
    return (mix / max(np.abs(mix).max(), 1e-9) * 0.5).astype(np.float32)


def windows(
    mixture: np.ndarray,
    segments: Sequence,
    labels: Sequence[str],
    features: FeatureConfig,
    *,
    window_s: float,
) -> list[dict[str, torch.Tensor]]:
    n = round(window_s * features.sample_rate)
    out = []
    for start in range(0, len(mixture), n):
        x = np.zeros(n, np.float32)
        chunk = mixture[start : start + n]
        x[: len(chunk)] = chunk
        out.append(
            frame_item(
                x,
                segments,
                labels,
                features,
                offset_s=start / features.sample_rate,
                valid_samples=len(chunk),
            )
        )
    return out


def frame_item(
    x: np.ndarray,
    segments: Sequence,
    labels: Sequence[str],
    features: FeatureConfig,
    *,
    offset_s: float,
    valid_samples: int,
) -> dict[str, torch.Tensor]:
    """One training item: audio, frame labels and the mask of frames inside real audio."""
    n_frames = features.n_frames(len(x))
    hop_s = features.hop_length / features.sample_rate
    frames = segments_to_frames(
        segments, labels=labels, n_frames=n_frames, hop_s=hop_s, offset_s=offset_s
    )
    mask = np.arange(n_frames) * features.hop_length < valid_samples
    return {
        "audio": torch.from_numpy(x),
        "labels": torch.from_numpy(frames.astype(np.float32)),
        "mask": torch.from_numpy(mask),
    }
