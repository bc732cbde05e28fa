"""The one training loop on a learnable toy task: frame labels = sign of feature row 0."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import Dataset

from cantata.errors import ConfigError, ModelLoadError
from cantata.models.registry import build, load_checkpoint, register
from cantata.train import FitResult, TrainConfig, fit

NAME = "test-loop-frames"
N_FEATURES, N_FRAMES = 4, 16


@dataclass(frozen=True)
class FrameNetConfig:
    hidden: int = 16
    dropout: float = 0.2


@register(NAME, FrameNetConfig)
class FrameNet(nn.Module):
    """Features (batch, 4, n_frames) -> logits (batch, 2, n_frames)."""

    def __init__(self, config: FrameNetConfig) -> None:
        super().__init__()
        self.body = nn.Conv1d(N_FEATURES, config.hidden, 3, padding=1)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Conv1d(config.hidden, 2, 1)

    def forward(self, features: Tensor) -> Tensor:
        return self.head(self.dropout(torch.relu(self.body(features))))


class ToyFrames(Dataset[tuple[Tensor, Tensor]]):
    """Random features drawn from (seed, epoch, index); label = feature row 0 > 0."""

    def __init__(self, n_items: int, *, seed: int) -> None:
        self.n_items, self.seed, self.epoch = n_items, seed, 0
        self.epochs_seen: list[int] = []

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.epochs_seen.append(epoch)

    def __len__(self) -> int:
        return self.n_items

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        seed = self.seed * 1_000_003 + self.epoch * 10_007 + index
        features = torch.randn(N_FEATURES, N_FRAMES, generator=torch.Generator().manual_seed(seed))
        return features, (features[0] > 0).long()


class FrameTask:
    metric = "accuracy"
    higher_is_better = True

    def training_step(self, model: nn.Module, batch: Any) -> tuple[Tensor, dict[str, float]]:
        features, labels = batch
        logits = model(features)
        accuracy = (logits.argmax(1) == labels).float().mean().item()
        return F.cross_entropy(logits, labels), {"accuracy": accuracy}

    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        correct = total = 0
        for features, labels in batches:
            correct += (model(features).argmax(1) == labels).sum().item()
            total += labels.numel()
        return {"accuracy": correct / total}


class FlatTask(FrameTask):
    """Validation never improves: early stopping must kick in."""

    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        return {"accuracy": 0.5}


class HeadOnlyTask(FrameTask):
    """Optimises the head only; the body is a frozen, transferred layer."""

    def parameters(self, model: nn.Module) -> Iterable[nn.Parameter]:
        return model.head.parameters()


class Crash(Exception):
    """Stands for the process being killed."""


BASE = TrainConfig(
    max_steps=12, batch_size=8, lr=1e-2, eval_every=3, patience=0, log_every=2, seed=3
)
META = {"labels": ["off", "on"], "sample_rate": 16000}


def _fit(
    out_dir: Path, config: TrainConfig = BASE, *, task: Any = None, **kwargs: Any
) -> tuple[FitResult, nn.Module]:
    torch.manual_seed(config.seed)
    model = build(NAME, FrameNetConfig())
    kwargs = {"model_config": FrameNetConfig(), "meta": META, **kwargs}
    train = kwargs.pop("train_data", ToyFrames(32, seed=1))
    val = ToyFrames(16, seed=99)
    task = task or FrameTask()
    result = fit(model, task, train, val, config, out_dir=out_dir, checkpoint_name=NAME, **kwargs)
    return result, model


def _max_diff(a: nn.Module, b: nn.Module) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    return max((sa[k].float() - sb[k].float()).abs().max().item() for k in sa)


def test_fit_learns_and_writes_best_last_and_log(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    train = ToyFrames(32, seed=1)
    config = replace(BASE, max_steps=40, eval_every=10)
    result, model = _fit(tmp_path, config, train_data=train, on_progress=events.append)

    accuracies = [record["metrics"]["accuracy"] for record in result.history]
    assert [record["step"] for record in result.history] == [10, 20, 30, 40]
    assert accuracies[-1] > accuracies[0] and result.best_metric > 0.9
    losses = [e["loss"] for e in events if e["event"] == "train"]
    assert losses[-1] < losses[0]
    assert train.epochs_seen == list(range(10))  # 4 batches per epoch, set_epoch each
    assert (result.steps_done, result.stopped_early) == (40, False)

    lines = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert lines == json.loads(json.dumps(events))
    assert [e["event"] for e in lines][:2] == ["start", "train"] and lines[-1]["event"] == "stop"
    assert all(e["max_steps"] == 40 and "step" in e for e in lines)

    best, ckpt = load_checkpoint(result.best_path)
    assert result.best_path == tmp_path / "best.pt"
    training = ckpt.meta["training"]
    assert training["step"] == result.best_step
    assert training["metrics"]["accuracy"] == result.best_metric
    assert training["train_config"] == config.to_dict() and training["wall_s"] > 0
    assert ckpt.meta["labels"] == META["labels"]

    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert last["train_state"]["step"] == 40 and "optimizer" in last["train_state"]
    assert _max_diff(load_checkpoint(tmp_path / "last.pt")[0], model) == 0.0


def test_keep_checkpoints_writes_every_evaluation(tmp_path: Path) -> None:
    result, model = _fit(tmp_path, replace(BASE, keep_checkpoints=True))
    kept = sorted((tmp_path / "steps").glob("*.pt"))
    assert [p.name for p in kept] == [f"step-{s:06d}.pt" for s in (3, 6, 9, 12)]
    last, checkpoint = load_checkpoint(kept[-1])
    assert checkpoint.meta["training"]["step"] == 12 and _max_diff(last, model) == 0.0
    walls = [load_checkpoint(p)[1].meta["training"]["wall_s"] for p in kept]
    assert walls == sorted(walls) and walls[0] > 0  # each up to its own evaluation
    _fit(tmp_path / "plain")
    assert not (tmp_path / "plain" / "steps").exists()


def test_early_stopping_and_a_stopped_run_stays_stopped(tmp_path: Path) -> None:
    config = replace(BASE, max_steps=100, eval_every=2, patience=2)
    result, _ = _fit(tmp_path, config, task=FlatTask())
    assert result.stopped_early and result.steps_done == 6
    assert (result.best_step, len(result.history)) == (2, 3)
    again, _ = _fit(tmp_path, config, task=FlatTask())
    assert again.steps_done == 6 and again.stopped_early


def test_frozen_parameters_stay_unchanged(tmp_path: Path) -> None:
    torch.manual_seed(BASE.seed)
    initial = build(NAME, FrameNetConfig()).state_dict()
    _, model = _fit(tmp_path, replace(BASE, weight_decay=0.1), task=HeadOnlyTask())
    trained = model.state_dict()
    assert torch.equal(trained["body.weight"], initial["body.weight"])
    assert torch.equal(trained["body.bias"], initial["body.bias"])
    assert not torch.equal(trained["head.weight"], initial["head.weight"])


def test_same_seed_same_weights(tmp_path: Path) -> None:
    config = replace(BASE, lr_schedule="cosine")
    _, first = _fit(tmp_path / "a", config)
    _, second = _fit(tmp_path / "b", config)
    assert _max_diff(first, second) == 0.0
    _, other = _fit(tmp_path / "c", replace(config, seed=4))
    assert _max_diff(first, other) > 0.0


def test_resume_after_max_steps_matches_uninterrupted_run(tmp_path: Path) -> None:
    _, whole = _fit(tmp_path / "whole", BASE)
    half, _ = _fit(tmp_path / "split", replace(BASE, max_steps=6))  # step 6: mid-epoch
    assert half.steps_done == 6
    resumed, model = _fit(tmp_path / "split", BASE)
    assert resumed.steps_done == 12
    assert _max_diff(whole, model) <= 1e-6


def test_resume_after_a_crash_matches_uninterrupted_run(tmp_path: Path) -> None:
    config = replace(BASE, lr_schedule="cosine")
    _, whole = _fit(tmp_path / "whole", config)

    def crash_at_step_6(event: dict[str, Any]) -> None:
        if event["event"] == "eval" and event["step"] == 6:
            raise Crash

    with pytest.raises(Crash):
        _fit(tmp_path / "split", config, on_progress=crash_at_step_6)
    resumed, model = _fit(tmp_path / "split", config)
    assert resumed.steps_done == 12
    assert [r["step"] for r in resumed.history] == [3, 6, 9, 12]
    assert _max_diff(whole, model) <= 1e-6
    lines = (tmp_path / "split" / "train.jsonl").read_text().splitlines()
    starts = [event for event in map(json.loads, lines) if event["event"] == "start"]
    assert [event["resumed"] for event in starts] == [False, True]


def test_workers_see_set_epoch(tmp_path: Path) -> None:
    """Items depend on the epoch: persistent workers must load exactly what the main
    process would."""
    config = replace(BASE, max_steps=8, eval_every=8)
    _, in_process = _fit(tmp_path / "w0", config)
    _, in_workers = _fit(tmp_path / "w2", replace(config, num_workers=2))
    assert _max_diff(in_process, in_workers) == 0.0


def test_resume_refuses_other_settings_and_resume_false_starts_afresh(tmp_path: Path) -> None:
    _fit(tmp_path, replace(BASE, max_steps=3))
    with pytest.raises(ConfigError, match=r"other train settings \['lr'\]"):
        _fit(tmp_path, replace(BASE, lr=0.5))
    result, _ = _fit(tmp_path, replace(BASE, lr=0.5, max_steps=3), resume=False)
    assert result.steps_done == 3
    lines = (tmp_path / "train.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["event"] == "start" for line in lines) == 1


class NoMetricTask(FrameTask):
    def evaluate(self, model: nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        return {"acc": 1.0}


def test_bad_inputs_raise_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="checkpoint meta must be JSON-like"):
        _fit(tmp_path / "meta", meta={"path": tmp_path})
    with pytest.raises(ConfigError, match="holds 4 items, fewer than batch_size=8"):
        _fit(tmp_path / "small", train_data=ToyFrames(4, seed=1))
    assert not (tmp_path / "meta").exists() and not (tmp_path / "small").exists()
    with pytest.raises(ConfigError, match="without the selection metric 'accuracy'"):
        _fit(tmp_path / "metric", task=NoMetricTask())
    with pytest.raises(ConfigError, match="takes a FrameNetConfig"):
        _fit(tmp_path / "config", model_config=replace(BASE))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"lr": 0}, "lr must be positive"),
        ({"batch_size": True}, "batch_size must be an int"),
        ({"patience": -1}, "patience must be >= 0"),
        ({"grad_clip_norm": 0.0}, "grad_clip_norm must be positive or None"),
        ({"lr_schedule": "linear"}, "lr_schedule must be one of"),
    ],
)
def test_train_config_validation(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**changes)


def test_train_config_dict_round_trip() -> None:
    config = TrainConfig(lr=1, grad_clip_norm=None, lr_schedule="cosine")
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ConfigError, match=r"unknown TrainConfig keys: \['epochs'\]"):
        TrainConfig.from_dict({"epochs": 3})


class PhasedTask(FrameTask):
    """Two phases per step: "body" trains the body at the scheduled rate, "head" the head
    at three times it; each records the phases it sees."""

    phases = ("body", "head")

    def __init__(self) -> None:
        self.seen: list[str] = []

    def begin_phase(self, phase: str) -> None:
        self.seen.append(phase)

    def param_groups(self, model: nn.Module, phase: str) -> list[tuple[Any, float]]:
        part = model.body if phase == "body" else model.head
        return [(part.parameters(), 1.0 if phase == "body" else 3.0)]


def _phased_fit(out_dir: Path, config: TrainConfig, **kwargs: Any) -> tuple[PhasedTask, nn.Module]:
    task = PhasedTask()
    _, model = _fit(out_dir, config, task=task, **kwargs)
    return task, model


def test_phases_run_in_turn_with_their_own_optimisers(tmp_path: Path) -> None:
    rates: list[float] = []
    config = replace(BASE, max_steps=4, eval_every=4, log_every=1, lr=0.01)
    task, model = _phased_fit(tmp_path / "run", config,
                              on_progress=lambda e: rates.append(e["lr"])
                              if e["event"] == "train" else None)
    assert task.seen == ["body", "head"] * 4
    assert rates == pytest.approx([0.01] * 4)  # the first phase's rate
    saved = torch.load(tmp_path / "run" / "last.pt", weights_only=True)["train_state"]
    assert set(saved["optimizer"]) == {"body", "head"}
    head_group = saved["optimizer"]["head"]["param_groups"][0]
    assert head_group["lr"] == pytest.approx(0.03)


def test_phased_run_resumes_like_an_uninterrupted_one(tmp_path: Path) -> None:
    _, whole = _phased_fit(tmp_path / "whole", BASE)
    _phased_fit(tmp_path / "split", replace(BASE, max_steps=6))
    _, resumed = _phased_fit(tmp_path / "split", BASE)
    assert _max_diff(whole, resumed) <= 1e-6
    with pytest.raises(ModelLoadError, match="cannot resume"):
        _fit(tmp_path / "split", replace(BASE, max_steps=15))  # one phase now


def test_bad_phase_groups_raise_config_error(tmp_path: Path) -> None:
    class NoGroups(PhasedTask):
        def param_groups(self, model: nn.Module, phase: str) -> list[tuple[Any, float]]:
            return [(model.head.parameters(), 0.0)]

    with pytest.raises(ConfigError, match="non-positive"):
        _fit(tmp_path / "run", task=NoGroups())
