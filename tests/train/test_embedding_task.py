"""The embedding task: DSSM and adjacency losses, the GAN phase and its optimiser groups,
validation retrieval."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from cantata.errors import ConfigError
from cantata.models.embedder import EmbeddingSystem, debug_embedder
from cantata.train.tasks.embedding import EmbeddingTask, _ranks, distribution_stats


def system(kind: str = "adjacency", prior: bool = True) -> EmbeddingSystem:
    torch.manual_seed(0)
    return EmbeddingSystem(replace(debug_embedder().config, system=kind, prior=prior)).train()


def batch(n: int = 6, tracks: list[int] | None = None):
    g = torch.Generator().manual_seed(1)
    anchor = torch.randn(n, 16, 40, generator=g) * 10 - 40
    positive = anchor + torch.randn(n, 16, 40, generator=g)
    return anchor, positive, torch.tensor(tracks if tracks is not None else list(range(n)))


@pytest.mark.parametrize("kind", ["dssm", "adjacency"])
@pytest.mark.parametrize("similarity", ["euclidean", "cosine"])
def test_metric_loss_is_finite_and_trains_the_embedder(kind, similarity):
    model, task = system(kind), EmbeddingTask(similarity=similarity)
    task.begin_phase("metric")
    loss, metrics = task.training_step(model, batch(tracks=[0, 0, 1, 2, 3, 3]))
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert 0.0 <= metrics["metric/acc"] <= 1.0
    loss.backward()
    assert model.embedder.head.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.prior_disc.parameters())
    if kind == "adjacency":
        assert model.adjacency[0].weight.grad.abs().sum() > 0


def test_dssm_masks_candidates_of_the_same_track():
    task = EmbeddingTask()
    model = system("dssm")
    z_p = torch.stack([torch.zeros(8), torch.zeros(8), torch.full((8,), 5.0)])
    z = z_p.clone()
    # items 0 and 1 share a track: each one's only candidate besides itself is item 2
    loss, acc = task.metric_loss(model, z, z_p, torch.tensor([0, 0, 1]))
    assert acc == 1.0 and torch.isfinite(loss)
    unmasked, _ = task.metric_loss(model, z, z_p, torch.tensor([0, 1, 2]))
    assert unmasked > loss  # the identical same-track positive counted as a negative


def test_phases_and_their_parameter_groups():
    model = system("adjacency")
    task = EmbeddingTask(gan_lr_scale=5.0, generator_lr_scale=0.5)
    assert task.phases == ("metric", "gan")
    assert EmbeddingTask(prior=False).phases == ("metric",)
    (metric, scale), = task.param_groups(model, "metric")
    assert scale == 1.0
    assert {id(p) for p in metric} == {id(p) for p in [*model.embedder.parameters(),
                                                        *model.adjacency.parameters()]}
    (disc, disc_scale), (gen, gen_scale) = task.param_groups(model, "gan")
    assert (disc_scale, gen_scale) == (5.0, 0.5)
    assert {id(p) for p in disc} == {id(p) for p in model.prior_disc.parameters()}
    assert {id(p) for p in gen} == {id(p) for p in model.embedder.parameters()}
    with pytest.raises(ConfigError, match="no prior"):
        task.param_groups(system("dssm", prior=False), "gan")
    with pytest.raises(ConfigError, match="positive"):
        EmbeddingTask(generator_lr_scale=0)


def test_gan_step_losses_finite_and_generator_term_spares_the_discriminator():
    model, task = system("dssm"), EmbeddingTask()
    task.begin_phase("gan")
    loss, metrics = task.training_step(model, batch())
    assert torch.isfinite(loss) and {"gan/disc", "gan/gen"} <= set(metrics)
    loss.backward()
    assert model.prior_disc[0].weight.grad.abs().sum() > 0
    assert model.embedder.head.weight.grad.abs().sum() > 0

    # the generator term alone: the embedder learns, the discriminator's weights do not
    model.zero_grad(set_to_none=True)
    anchor, positive, _ = batch()
    terms = task.gan_losses(model, model.embedder(torch.cat([anchor, positive])))
    terms["gen"].backward(retain_graph=True)
    assert all(p.grad is None for p in model.prior_disc.parameters())
    assert model.embedder.head.weight.grad.abs().sum() > 0
    before = [p.detach().clone() for p in model.prior_disc.parameters()]
    torch.optim.SGD(model.parameters(), lr=1.0).step()
    assert all(torch.equal(a, p) for a, p in zip(before, model.prior_disc.parameters(),
                                                 strict=True))
    # the discriminator term alone does not reach the embedder
    model.zero_grad(set_to_none=True)
    terms["disc"].backward()
    assert model.embedder.head.weight.grad is None
    assert model.prior_disc[0].weight.grad.abs().sum() > 0


def test_prior_needs_its_discriminator():
    task = EmbeddingTask(prior=True)
    task.begin_phase("metric")
    with pytest.raises(ConfigError, match="no prior"):
        task.training_step(system("dssm", prior=False), batch())


def test_evaluate_reports_retrieval_and_distribution():
    model, task = system("adjacency").eval(), EmbeddingTask()
    with torch.no_grad():
        metrics = task.evaluate(model, [batch(), batch(4)])
    assert 0 < metrics["val_mrr"] <= 1 and 0 <= metrics["val_recall1"] <= 1
    for key in ("val_mrr_cosine", "val_mrr_euclidean", "val_recall10", "val_norm",
                "val_mean_dist", "val_cov_dist", "val_prior_acc", "val_metric_loss"):
        assert key in metrics


def test_ranks_count_ties_against_the_true_candidate():
    sim = torch.tensor([[3.0, 1.0, 2.0], [1.0, 1.0, 0.0], [5.0, 4.0, 0.0]])
    assert _ranks(sim).tolist() == [1.0, 2.0, 3.0]


def test_distribution_stats_of_standard_normal_are_small():
    stats = distribution_stats(torch.randn(20000, 8, generator=torch.Generator().manual_seed(0)))
    assert abs(stats["val_norm"] - 1) < 0.1 and stats["val_mean_dist"] < 0.05
    assert stats["val_cov_dist"] < 0.05
    far = distribution_stats(3 * torch.randn(2000, 8) + 2)
    assert far["val_cov_dist"] > 5 and far["val_mean_dist"] > 4


def test_gan_phase_embeds_with_frozen_normalisation():
    model, task = system("dssm"), EmbeddingTask()
    before = model.embedder.norm.running_mean.clone()
    task.begin_phase("gan")
    loss, _ = task.training_step(model, batch())
    assert torch.equal(model.embedder.norm.running_mean, before)  # statistics not updated
    assert model.embedder.training  # and back in training mode
    loss.backward()
    assert model.embedder.head.weight.grad.abs().sum() > 0
    task.begin_phase("metric")
    task.training_step(model, batch())
    assert not torch.equal(model.embedder.norm.running_mean, before)
