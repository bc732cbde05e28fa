"""Training the music embedder: adversarial DSSM and adversarial adjacency (BRIEF §4).

Batches are ``(anchor, positive, track)``: features (B, n_features, frames) of two
adjacent segments of one track, and the track's index (B,) (the items of
:class:`~cantata.embed.data.AdjacentPairs` and :class:`~cantata.embed.data.FixedPairs`).
Candidates from the same track as a reference are never its negatives.

- ``"dssm"`` (:class:`~cantata.models.embedder.EmbeddingSystem` with ``system="dssm"``):
  cross-entropy of a softmax over similarities of each reference to its positive against
  the in-batch positives of other tracks; the similarity is minus the squared Euclidean
  distance, or the cosine, divided by a temperature.
- ``"adjacency"``: the adjacency discriminator classifies concatenated (reference,
  positive) pairs as adjacent and (reference, positive of another track) as not, with
  two-class cross-entropy.

With the adversarial prior (``config.prior``) every step has two phases (the loop's
``phases``), each with its own optimiser: ``"metric"`` trains the embedder (and the
adjacency discriminator) on the system's loss; ``"gan"`` is the adversarial game in one
backward pass: the prior discriminator learns to tell the embeddings (detached) from
samples of N(0, I), at ``gan_lr_scale`` times the learning rate, and the embedder learns
to fool it through a copy of the discriminator with detached parameters (so only the
embedder learns from the generator term), at ``generator_lr_scale`` times the rate. With
optimisers of their own, the two phases do not share AdamW's moments: the prior's
gradients do not rescale the metric's updates. The GAN phase embeds with the embedder's
batch normalisation frozen (running statistics), so that the prior shapes the embeddings
inference produces: with batch statistics the embeddings of training batches and of
inference differed by a factor of two in scale.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from cantata.errors import ConfigError
from cantata.models.embedder import EmbeddingSystem

SIMILARITIES = ("euclidean", "cosine")
#: default temperatures (measured best of 2 and 8 for Euclidean, docs/embeddings.md)
DEFAULT_TEMPERATURE = {"euclidean": 2.0, "cosine": 0.1}
#: the embedder's learning-rate multiplier in the GAN phase: 0.1 kept the Euclidean DSSM's
#: retrieval whole, 0.3 cost it 11 %, 1 and 5 destabilised the game (docs/embeddings.md)
GENERATOR_LR_SCALE = 0.1


class EmbeddingTask:
    """Self-supervised adjacency training of an :class:`EmbeddingSystem`.

    Args:
        similarity: ``"euclidean"`` (minus squared distance) or ``"cosine"``: the DSSM
            similarity, and the one validation retrieval ranks by.
        temperature: DSSM similarities are divided by it (default: 2 for Euclidean, 0.1
            for cosine).
        prior: train with the adversarial N(0, I) prior (the model must have its
            discriminator).
        gan_lr_scale: learning-rate multiplier of the prior discriminator.
        generator_lr_scale: learning-rate multiplier of the embedder in the GAN phase.
        gan_frozen_norm: embed with the embedder's batch normalisation in inference mode
            (running statistics, not updated) in the GAN phase, so that the prior shapes
            the embeddings inference gives, not those of training batches.
    """

    metric = "val_mrr"
    higher_is_better = True

    def __init__(self, *, prior: bool = True, similarity: str = "euclidean",
                 temperature: float | None = None, gan_lr_scale: float = 5.0,
                 generator_lr_scale: float = GENERATOR_LR_SCALE,
                 gan_frozen_norm: bool = True) -> None:
        if similarity not in SIMILARITIES:
            raise ConfigError(f"similarity must be one of {list(SIMILARITIES)}, "
                              f"got {similarity!r}")
        if temperature is not None and not temperature > 0:
            raise ConfigError(f"temperature must be positive, got {temperature}")
        if not (gan_lr_scale > 0 and generator_lr_scale > 0):
            raise ConfigError(f"learning-rate scales must be positive, got {gan_lr_scale} "
                              f"and {generator_lr_scale}")
        self.prior, self.similarity = prior, similarity
        self.temperature = temperature or DEFAULT_TEMPERATURE[similarity]
        self.gan_lr_scale, self.generator_lr_scale = gan_lr_scale, generator_lr_scale
        self.gan_frozen_norm = gan_frozen_norm
        self.phase = "metric"

    # -- the loop's hooks -------------------------------------------------------------------

    @property
    def phases(self) -> tuple[str, ...]:
        return ("metric", "gan") if self.prior else ("metric",)

    def begin_phase(self, phase: str) -> None:
        self.phase = phase

    def param_groups(self, model: nn.Module, phase: str
                     ) -> list[tuple[list[nn.Parameter], float]]:
        """Metric phase: the embedder and the adjacency discriminator at the scheduled
        rate; GAN phase: the prior discriminator and the embedder at their scales."""
        system = _system(model)
        embedder = list(system.embedder.parameters())
        if phase == "metric":
            heads = [] if system.adjacency is None else list(system.adjacency.parameters())
            return [(embedder + heads, 1.0)]
        if system.prior_disc is None:
            raise ConfigError("the task trains the prior but the model has no prior "
                              "discriminator (EmbedderConfig.prior=False)")
        return [(list(system.prior_disc.parameters()), self.gan_lr_scale),
                (embedder, self.generator_lr_scale)]

    def training_step(self, model: nn.Module, batch: tuple[Tensor, Tensor, Tensor]
                      ) -> tuple[Tensor, dict[str, float]]:
        system = _system(model)
        if self.prior and system.prior_disc is None:
            raise ConfigError("the task trains the prior but the model has no prior "
                              "discriminator (EmbedderConfig.prior=False)")
        anchor, positive, track = batch
        if self.phase == "gan":
            z = self._gan_embeddings(system, torch.cat([anchor, positive]))
            terms = self.gan_losses(system, z)
            loss = terms["disc"] + terms["gen"]
            return loss, {f"gan/{k}": float(v.detach()) for k, v in terms.items()}
        z = system.embedder(torch.cat([anchor, positive]))
        z_a, z_p = z.chunk(2)
        loss, acc = self.metric_loss(system, z_a, z_p, track)
        return loss, {"metric/loss": float(loss.detach()), "metric/acc": acc}

    def _gan_embeddings(self, system: EmbeddingSystem, features: Tensor) -> Tensor:
        if not self.gan_frozen_norm:
            return system.embedder(features)
        was_training = system.embedder.training
        system.embedder.eval()
        try:
            return system.embedder(features)
        finally:
            system.embedder.train(was_training)

    # -- losses -----------------------------------------------------------------------------

    def metric_loss(self, system: EmbeddingSystem, z_a: Tensor, z_p: Tensor,
                    track: Tensor) -> tuple[Tensor, float]:
        """The system's adjacency loss and its batch accuracy (DSSM: the positive ranks
        first; adjacency: pairs classified right)."""
        if system.config.system == "dssm":
            logits = self.similarities(z_a, z_p) / self.temperature  # (B, B)
            logits = logits.masked_fill(_same_track_others(track), float("-inf"))
            target = torch.arange(len(z_a), device=z_a.device)
            loss = F.cross_entropy(logits, target)
            return loss, float((logits.argmax(1) == target).float().mean())
        assert system.adjacency is not None
        keep, negative = _other_track_partner(track)
        pairs = torch.cat([torch.cat([z_a, z_p], 1), torch.cat([z_a[keep], z_p[negative]], 1)])
        labels = torch.cat([torch.ones(len(z_a)), torch.zeros(int(keep.sum()))]).long()
        logits = system.adjacency(pairs)
        loss = F.cross_entropy(logits, labels.to(logits.device))
        return loss, float((logits.argmax(1).cpu() == labels).float().mean())

    def gan_losses(self, system: EmbeddingSystem, z: Tensor) -> dict[str, Tensor]:
        """``disc``: the prior discriminator's loss (embeddings fake, N(0, I) real);
        ``gen``: the embedder's loss for being caught, through detached discriminator
        parameters (its gradient reaches the embedder only)."""
        disc = system.prior_disc
        assert disc is not None
        real = torch.randn_like(z)
        fake_logit, real_logit = disc(z.detach()), disc(real)
        d_loss = (F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
                  + F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit)))
        frozen = {name: p.detach() for name, p in disc.named_parameters()}
        fooled = functional_call(disc, frozen, (z,))
        g_loss = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
        return {"disc": d_loss, "gen": g_loss}

    def similarities(self, a: Tensor, b: Tensor) -> Tensor:
        """(len(a), len(b)) similarities (before the temperature)."""
        return _similarity(self.similarity, a, b)

    # -- validation -------------------------------------------------------------------------

    def evaluate(self, model: nn.Module, batches: Iterable[tuple[Tensor, Tensor, Tensor]]
                 ) -> dict[str, float]:
        """Adjacent-segment retrieval over all validation pairs and the distribution.

        Each reference ranks every validation positive (its own among them) by the task's
        similarity: ``val_mrr`` (mean reciprocal rank of its positive, ties counted
        against it), ``val_recall1``, ``val_recall10``; ``val_mrr_cosine`` and
        ``val_mrr_euclidean`` by the named similarity; ``val_norm`` (mean |z| / sqrt(d),
        1 for N(0, I)), ``val_mean_dist`` (|mean z|), ``val_cov_dist`` (|Cov z - I|_F /
        sqrt(d)); ``val_metric_loss`` and ``val_metric_acc`` of the system's loss over
        the validation batches; ``val_prior_acc`` (the prior discriminator's accuracy on
        embeddings vs as many N(0, I) samples, 0.5 when fooled) with the prior.
        """
        system = _system(model)
        za, zp, losses, accs = [], [], [], []
        for anchor, positive, track in batches:
            z = system.embedder(torch.cat([anchor, positive]))
            z_a, z_p = z.chunk(2)
            if len(track) > 1:
                loss, acc = self.metric_loss(system, z_a, z_p, track)
                losses.append(float(loss))
                accs.append(acc)
            za.append(z_a)
            zp.append(z_p)
        z_a, z_p = torch.cat(za).float(), torch.cat(zp).float()
        metrics = {"val_metric_loss": float(np.mean(losses)) if losses else float("nan"),
                   "val_metric_acc": float(np.mean(accs)) if accs else float("nan")}
        for name in SIMILARITIES:
            ranks = _ranks(_similarity(name, z_a, z_p))
            metrics[f"val_mrr_{name}"] = float((1.0 / ranks).mean())
            if name == self.similarity:
                metrics["val_mrr"] = metrics[f"val_mrr_{name}"]
                metrics["val_recall1"] = float((ranks <= 1).float().mean())
                metrics["val_recall10"] = float((ranks <= 10).float().mean())
        metrics.update(distribution_stats(torch.cat([z_a, z_p])))
        if system.prior_disc is not None:
            z = torch.cat([z_a, z_p])
            fake = system.prior_disc(z) < 0
            noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(0))
            real = system.prior_disc(noise.to(z.device)) > 0
            metrics["val_prior_acc"] = float(torch.cat([fake, real]).float().mean())
        return metrics


def distribution_stats(z: Tensor) -> dict[str, float]:
    """How far embeddings (n, d) are from N(0, I): ``val_norm`` (mean |z| / sqrt(d)),
    ``val_mean_dist`` (|mean|), ``val_cov_dist`` (|Cov - I|_F / sqrt(d))."""
    n, d = z.shape
    mean = z.mean(0)
    centred = z - mean
    cov = centred.T @ centred / max(n - 1, 1)
    return {"val_norm": float(z.norm(dim=1).mean() / d**0.5),
            "val_mean_dist": float(mean.norm()),
            "val_cov_dist": float((cov - torch.eye(d, device=z.device)).norm() / d**0.5)}


def _system(model: nn.Module) -> EmbeddingSystem:
    if not isinstance(model, EmbeddingSystem):
        raise ConfigError(f"the embedding task trains an EmbeddingSystem, not "
                          f"{type(model).__name__}")
    return model


def _similarity(name: str, a: Tensor, b: Tensor) -> Tensor:
    if name == "cosine":
        return F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    # expanded rather than torch.cdist, whose gradient is NaN at zero distance
    return 2 * a @ b.T - a.pow(2).sum(1, keepdim=True) - b.pow(2).sum(1).unsqueeze(0)


def _ranks(sim: Tensor) -> Tensor:
    """(n,) rank of each row's diagonal entry among its row (1 = first; ties count
    against it)."""
    true = sim.diagonal().unsqueeze(1)
    beaten = (sim >= true).sum(1) - 1  # the others scoring at least as high
    return (beaten + 1).float()


def _same_track_others(track: Tensor) -> Tensor:
    """(B, B) True where column j is another item of row i's track."""
    same = track.unsqueeze(0) == track.unsqueeze(1)
    return same & ~torch.eye(len(track), dtype=torch.bool, device=track.device)


def _other_track_partner(track: Tensor) -> tuple[Tensor, Tensor]:
    """(keep (B,) bool, partner (n_kept,) index): for each item that has one, a random
    item of another track."""
    scores = torch.rand(len(track), len(track))
    other = track.unsqueeze(0).cpu() != track.unsqueeze(1).cpu()
    scores = scores.masked_fill(~other, -1.0)
    keep = other.any(1)
    return keep.to(track.device), scores.argmax(1)[keep].to(track.device)
