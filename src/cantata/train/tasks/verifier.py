"""Train the defect detector's candidate verifier from clip labels (multiple-instance
learning).

Each clip is a bag of residual outliers (:func:`cantata.audio.clicks.click_candidates`, at
the clip's own rate). With **weak** labels only the bag is labelled, per type the verifier
knows (a click, a discontinuity): its most likely candidate for the type (the largest
logit, max pooling) must say whether the clip holds that type; a clean clip, or one whose
defects are all of other types, teaches that none of its candidates is one. With
**strong** labels (to measure what the weak ones cost) each candidate is labelled by
whether it lies in a labelled event of the type (+-2 ms).

The verifier is a small MLP (:class:`~cantata.models.defect_detector.CandidateVerifier`),
trained after the CRNN (whose weights it leaves alone); of its validation checks, the one
with the lowest validation loss is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch.nn import functional as F

from cantata import audio
from cantata.audio.clicks import N_CANDIDATE_FEATURES, click_candidates
from cantata.data.records import Example
from cantata.data.sources.defect_labels import weak_labels
from cantata.errors import ConfigError
from cantata.models.defect_detector import CandidateVerifier
from cantata.train.tasks.defects import roc_auc

log = logging.getLogger(__name__)

#: a candidate this close to a labelled event is that event (strong labels)
COLLAR_S = 0.002


@dataclass(frozen=True)
class Bags:
    """The candidates of many clips, concatenated, with their labels per type.

    Attributes:
        types: the types labelled.
        features: (n, N_CANDIDATE_FEATURES) every candidate's features.
        bag: (n,) the clip each candidate came from (0..clips-1).
        strong: (n, types) whether it lies in a labelled event of the type (all False
            without strong labels).
        weak: (clips, types) whether each clip is labelled with the type.
    """

    types: tuple[str, ...]
    features: np.ndarray
    bag: np.ndarray
    strong: np.ndarray
    weak: np.ndarray

    @property
    def clips(self) -> int:
        return len(self.weak)


def candidate_bags(examples: Sequence[Example], types: Sequence[str]) -> Bags:
    """The candidates of every clip with audio, with their labels for ``types``."""
    types = tuple(types)
    features, bag, strong, weak = [], [], [], []
    for example in examples:
        if example.audio is None:
            continue
        wave = audio.load(example.audio)
        at, found = click_candidates(wave.samples, wave.sample_rate)
        times = at / wave.sample_rate
        inside = np.zeros((len(at), len(types)), bool)
        for seg in example.regions:
            if seg.label in types:
                inside[:, types.index(seg.label)] |= ((times >= seg.start_s - COLLAR_S)
                                                      & (times <= seg.end_s + COLLAR_S))
        labels = weak_labels(example)
        features.append(found)
        bag.append(np.full(len(at), len(weak)))
        strong.append(inside)
        weak.append([t in labels for t in types])
    if not weak:
        return Bags(types, np.zeros((0, N_CANDIDATE_FEATURES), np.float32), np.zeros(0, int),
                    np.zeros((0, len(types)), bool), np.zeros((0, len(types)), bool))
    return Bags(types, np.concatenate(features), np.concatenate(bag), np.concatenate(strong),
                np.array(weak, bool).reshape(-1, len(types)))


def bag_logits(logits: torch.Tensor, bag: torch.Tensor, n_bags: int) -> torch.Tensor:
    """Each bag's largest candidate logit per type, (n_bags, types) from (n, types);
    -inf for an empty bag."""
    out = torch.full((n_bags, logits.shape[1]), float("-inf"), dtype=logits.dtype)
    index = bag[:, None].expand(-1, logits.shape[1])
    return out.scatter_reduce(0, index, logits, reduce="amax", include_self=True)


def bag_loss(verifier: CandidateVerifier, bags: Bags, labels: Literal["weak", "strong"],
             clips: np.ndarray | None = None) -> torch.Tensor:
    """The loss on the clips ``clips`` of ``bags`` (all if None): binary cross-entropy of
    each non-empty bag's max logit per type against its clip label (weak), or of every
    candidate against its own (strong)."""
    chosen = np.arange(bags.clips) if clips is None else clips
    keep = np.isin(bags.bag, chosen)
    logits = verifier(torch.from_numpy(bags.features[keep]))
    if labels == "strong":
        return F.binary_cross_entropy_with_logits(
            logits, torch.from_numpy(bags.strong[keep].astype(np.float32)))
    index = np.searchsorted(chosen, bags.bag[keep])
    pooled = bag_logits(logits, torch.from_numpy(index), len(chosen))
    present = torch.isfinite(pooled)
    target = torch.from_numpy(bags.weak[chosen].astype(np.float32))
    return F.binary_cross_entropy_with_logits(pooled[present], target[present])


def fit_verifier(verifier: CandidateVerifier, train: Bags, val: Bags, *,
                 labels: Literal["weak", "strong"] = "weak", steps: int = 3000,
                 batch_clips: int = 64, lr: float = 1e-3, eval_every: int = 250,
                 seed: int = 0) -> dict[str, Any]:
    """Train ``verifier`` in place on ``train``'s bags (``batch_clips`` clips with
    candidates a step, drawn with the seeded RNG), keep the weights of the lowest
    validation loss; returns the record for the checkpoint's ``meta["verifier"]``.

    Raises:
        ConfigError: other types than the verifier's, labels neither weak nor strong, or
            no candidates in a clip labelled with one of the types.
    """
    if labels not in ("weak", "strong"):
        raise ConfigError(f"verifier labels must be weak or strong, got {labels!r}")
    if train.types != verifier.types:
        raise ConfigError(f"bags labelled for {train.types}, the verifier tells {verifier.types}")
    with_candidates = np.unique(train.bag)
    if not len(train.features) or not train.weak[with_candidates].any():
        raise ConfigError("no candidates in a clip labelled with "
                          f"{' or '.join(verifier.types)} to train the candidate verifier on")
    rng = np.random.default_rng(seed)
    verifier.fit_stats(torch.from_numpy(train.features))
    optimizer = torch.optim.Adam(verifier.parameters(), lr=lr, weight_decay=1e-4)
    best: tuple[float, dict[str, torch.Tensor], int] | None = None
    for step in range(1, steps + 1):
        verifier.train()
        chosen = np.sort(rng.choice(with_candidates, min(batch_clips, len(with_candidates)),
                                    replace=False))
        loss = bag_loss(verifier, train, labels, chosen)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % eval_every == 0 or step == steps:
            val_loss = evaluate(verifier, val, labels)["loss"] if len(val.features) else 0.0
            if best is None or val_loss < best[0]:
                best = (val_loss, {k: v.clone() for k, v in verifier.state_dict().items()},
                        step)
    assert best is not None
    verifier.load_state_dict(best[1])
    verifier.eval()
    record = {"labels": labels, "types": list(verifier.types), "steps": steps,
              "best_step": best[2], "train": describe(train), "val": describe(val)}
    if len(val.features):
        record["val_metrics"] = evaluate(verifier, val, labels)
    log.info("candidate verifier: %s", record)
    return record


def evaluate(verifier: CandidateVerifier, bags: Bags, labels: Literal["weak", "strong"]
             ) -> dict[str, Any]:
    """The loss and, per type, the clip-level ROC-AUC of the bags' max probabilities and
    (with strong labels present) the candidate-level ROC-AUC."""
    verifier.eval()
    with torch.no_grad():
        loss = float(bag_loss(verifier, bags, labels))
        logits = verifier(torch.from_numpy(bags.features)).numpy()
        pooled = bag_logits(torch.from_numpy(logits), torch.from_numpy(bags.bag),
                            bags.clips).numpy()
    out: dict[str, Any] = {"loss": round(loss, 4)}
    for j, name in enumerate(bags.types):
        present = np.isfinite(pooled[:, j])
        clip_auc = roc_auc(pooled[present, j], bags.weak[present, j])
        candidate_auc = (roc_auc(logits[:, j], bags.strong[:, j])
                         if bags.strong[:, j].any() else None)
        out[name] = {"clip_auc": None if clip_auc is None else round(clip_auc, 4),
                     "candidate_auc": None if candidate_auc is None else round(candidate_auc, 4)}
    return out


def describe(bags: Bags) -> dict[str, Any]:
    """Clips and candidates, and per type the clips labelled with it and the candidates in
    its labelled events."""
    return {"clips": bags.clips, "candidates": len(bags.features),
            **{name: {"clips": int(bags.weak[:, j].sum()),
                      "candidates": int(bags.strong[:, j].sum())}
               for j, name in enumerate(bags.types)}}
