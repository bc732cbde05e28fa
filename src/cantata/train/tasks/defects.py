"""Training the defect detector from weak clip labels (multiple-instance learning).

Items are whole clips: ``{"audio": (time,), "weak": (types,), "strong": (types, frames),
"has_strong": (), "mask": (frames,)}``; ``weak`` is 1 for each defect type the clip
contains, ``strong`` marks the frames inside each labelled event (where the clip has
strong labels, ``has_strong``), ``mask`` the frames inside real audio (a short clip is
zero-padded). With weak labels (the default) the loss is the binary cross-entropy of the
model's pooled clip probabilities against ``weak``; with strong labels, the frame-wise
binary cross-entropy against ``strong``, for measuring what weak labels cost.

Validation, per type: a clip is called defective when its highest frame probability
passes the type's threshold (how inference finds events); that threshold is chosen for
the best balanced accuracy of this call against the weak labels (``threshold/<type>``,
kept in the checkpoint, where inference reads it), and the clip-level ROC-AUC of the
highest frame probability is reported (where both classes occur); where clips have strong
labels with events of the type, the frame F1 at that threshold too. The selection metric
is the mean balanced accuracy over types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cantata import audio
from cantata.data.records import Example
from cantata.data.sources.defect_labels import has_strong, weak_labels
from cantata.defects import metrics
from cantata.errors import ConfigError
from cantata.features import FeatureConfig
from cantata.train.tasks.detection import best_threshold, counts_at, frame_scores

LABELS = ("weak", "strong")


class DefectTask:
    """Weak-label (MIL) or strong-label training of a defect detector.

    Args:
        types: the defect types, in the model's output order.
        labels: ``"weak"`` (clip labels through the model's pooling) or ``"strong"``
            (frame labels).
    """

    metric = "balanced_accuracy"
    higher_is_better = True

    def __init__(self, types: Sequence[str], *, labels: str = "weak") -> None:
        if labels not in LABELS:
            raise ConfigError(f"labels must be weak or strong, got {labels!r}")
        self.types, self.labels = tuple(types), labels

    def training_step(self, model: nn.Module, batch: dict[str, torch.Tensor]
                      ) -> tuple[torch.Tensor, dict[str, float]]:
        logits, clip = model.pooled(batch["audio"], batch["mask"])
        loss = strong_loss(logits, batch) if self.labels == "strong" else weak_loss(clip, batch)
        return loss, {"loss": float(loss.detach())}

    def evaluate(self, model: nn.Module, batches: Iterable[dict[str, torch.Tensor]]
                 ) -> dict[str, float]:
        clip_max, weak, frames, strong, losses = [], [], [], [], []
        for batch in batches:
            logits, clip = model.pooled(batch["audio"], batch["mask"])
            losses.append(float(weak_loss(clip, batch)))
            probs = torch.sigmoid(logits).masked_fill(~batch["mask"][:, None], 0.0)
            clip_max.append(probs.amax(dim=-1).numpy())
            weak.append(batch["weak"].numpy() > 0.5)
            for i in np.flatnonzero(batch["has_strong"].numpy()):
                valid = batch["mask"][i].numpy()
                frames.append(probs[i].numpy()[:, valid])
                strong.append(batch["strong"][i].numpy()[:, valid] > 0.5)
        metrics = {"loss": float(np.mean(losses))}
        metrics.update(type_metrics(np.concatenate(clip_max), np.concatenate(weak), self.types,
                                    frames, strong))
        return metrics


def weak_loss(clip: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """BCE of pooled clip probabilities (batch, types) against the weak labels."""
    return F.binary_cross_entropy(clip.clamp(1e-6, 1 - 1e-6), batch["weak"])


def strong_loss(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Frame BCE (batch, types, frames) over real frames of clips with strong labels.

    Raises:
        ConfigError: no clip of the batch has strong labels.
    """
    keep = (batch["mask"] & batch["has_strong"][:, None])[:, None].expand_as(logits)
    if not bool(keep.any()):
        raise ConfigError("strong-label training on clips without strong labels")
    loss = F.binary_cross_entropy_with_logits(logits, batch["strong"], reduction="none")
    return loss[keep].mean()


def type_metrics(clip_max: np.ndarray, weak: np.ndarray, types: Sequence[str],
                 frames: Sequence[np.ndarray], strong: Sequence[np.ndarray]) -> dict[str, float]:
    """Per-type metrics (see the module doc) and their means.

    Args:
        clip_max: (clips, types) highest frame probability of each clip.
        weak: (clips, types) bool weak labels.
        types: the type names.
        frames: per strongly labelled clip, (types, frames) probabilities.
        strong: the matching (types, frames) bool strong labels.
    """
    out: dict[str, float] = {}
    for i, name in enumerate(types):
        threshold = best_threshold(clip_max[:, i], weak[:, i])
        out[f"threshold/{name}"] = threshold
        out[f"balanced_accuracy/{name}"] = frame_scores(
            *counts_at(clip_max[:, i], weak[:, i], threshold))["balanced_accuracy"]
        auc = roc_auc(clip_max[:, i], weak[:, i])
        if auc is not None:
            out[f"clip_auc/{name}"] = auc
        t = np.concatenate([s[i] for s in strong]) if strong else np.zeros(0, bool)
        if t.any():
            p = np.concatenate([f[i] for f in frames])
            out[f"frame_f1/{name}"] = frame_scores(*counts_at(p, t, threshold))["f1"]
    for metric in ("balanced_accuracy", "clip_auc", "frame_f1"):
        values = [v for k, v in out.items() if k.startswith(f"{metric}/")]
        if values:
            out[metric] = float(np.mean(values))
    return out


def roc_auc(scores: np.ndarray, target: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half, :func:`cantata.defects.metrics.roc_auc`);
    None unless both classes occur."""
    target = np.asarray(target, bool)
    return metrics.roc_auc(target, scores) if target.any() and not target.all() else None


def weak_types(example: Example) -> set[str]:
    """The defect types a clip contains, its weak labels (``meta["defect_types"]``).

    Raises:
        ConfigError: the clip has no defect labels.
    """
    return set(weak_labels(example))



class DefectClips(torch.utils.data.Dataset):
    """Whole clips with their labels, at the model's rate, zero-padded to ``clip_s``.

    Items are drawn at random (item ``i`` of epoch ``e`` is a function of
    ``(seed, e, i)``) when ``length`` is given, else each clip is one item, in order.

    Raises:
        ConfigError: a clip longer than ``clip_s``, or labelled with an unknown type.
    """

    def __init__(self, examples: Sequence[Example], *, types: Sequence[str],
                 features: FeatureConfig, clip_s: float, length: int | None = None,
                 seed: int = 0) -> None:
        self.examples, self.types, self.features = list(examples), tuple(types), features
        self.clip_s, self.length, self.seed, self.epoch = clip_s, length, seed, 0
        for ex in self.examples:
            check_clip(ex, self.types, clip_s)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.examples) if self.length is None else self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.length is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            index = int(rng.integers(len(self.examples)))
        example = self.examples[index]
        wav = audio.load(example.audio, sample_rate=self.features.sample_rate, mono=True)
        return clip_item(wav.samples[0], example, self.types, self.features, self.clip_s)


def check_clip(example: Example, types: Sequence[str], clip_s: float) -> None:
    """Raise ConfigError naming the clip if it cannot train (see :class:`DefectClips`)."""
    if example.audio is None:
        raise ConfigError(f"clip {example.id!r} has no audio")
    if example.duration_s > clip_s + 1e-3:
        raise ConfigError(f"clip {example.id!r} ({example.audio}) is {example.duration_s:.2f} s "
                          f"long, more than data.clip_s = {clip_s} s: raise data.clip_s, or "
                          "cut the recording into clips labelled each")
    unknown = weak_types(example) - set(types)
    if unknown:
        raise ConfigError(f"clip {example.id!r} ({example.audio}) has unknown defect types "
                          f"{sorted(unknown)}; known: {', '.join(types)}")


def clip_item(samples: np.ndarray, example: Example, types: Sequence[str],
              features: FeatureConfig, clip_s: float) -> dict[str, Any]:
    """One item (see the module doc) of a clip's mono samples at the features' rate."""
    n = round(clip_s * features.sample_rate)
    x = np.zeros(n, np.float32)
    x[: min(n, len(samples))] = samples[:n]
    n_frames, hop = features.n_frames(n), features.hop_length
    present = weak_types(example)
    return {"audio": torch.from_numpy(x),
            "weak": torch.tensor([float(t in present) for t in types]),
            "strong": torch.from_numpy(event_frames(example, types, n_frames,
                                                    hop / features.sample_rate)),
            "has_strong": torch.tensor(has_strong(example)),
            "mask": torch.from_numpy(np.arange(n_frames) * hop < min(n, len(samples)))}


def event_frames(example: Example, types: Sequence[str], n_frames: int,
                 hop_s: float) -> np.ndarray:
    """(types, frames) float32: 1 for frames whose span (half a hop either side of the
    centre) overlaps an event, so a one-sample click marks its frame."""
    out = np.zeros((len(types), n_frames), np.float32)
    for seg in example.regions:
        if seg.label in types:
            first = max(0, int(np.floor(seg.start_s / hop_s + 0.5)))
            last = min(n_frames - 1, int(np.ceil(seg.end_s / hop_s + 0.5)) - 1)
            out[types.index(seg.label), first: max(first, last) + 1] = 1.0
    return out
