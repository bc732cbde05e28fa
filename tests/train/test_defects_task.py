"""The defect task (weak and strong labels), its clips, and the defect detector recipe."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from cantata.cli import main
from cantata.data.records import Example, write_manifest
from cantata.defects import DEFECT_TYPES, DefectDetector
from cantata.errors import ConfigError
from cantata.models.defect_detector import debug_defect_detector
from cantata.models.registry import load_checkpoint
from cantata.train.config import TrainConfig
from cantata.train.recipes import load_recipe
from cantata.train.recipes.defects import DefectData, DefectDetectorRecipe, VerifierTraining
from cantata.train.tasks.defects import (
    DefectClips,
    DefectTask,
    event_frames,
    has_strong,
    roc_auc,
    type_metrics,
    weak_types,
)
from cantata.types import Segment

REPO = Path(__file__).resolve().parents[2]
RATE = 16000
FEATURES = debug_defect_detector().config.features
TINY = TrainConfig(max_steps=2, batch_size=2, eval_every=2, num_workers=0)


def _clip(folder: Path, name: str, *, group: str, defect: str | None = None,
          seconds: float = 1.0, strong: bool = True) -> Example:
    """A tone with one numpy-injected defect (a click, a dropout or a DC offset)."""
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    t = np.arange(round(seconds * RATE)) / RATE
    x = (0.2 * np.sin(2 * np.pi * rng.uniform(200, 400) * t)
         + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    regions = []
    if defect == "click":
        x[RATE // 2] += 0.8
        regions = [Segment(0.5, 0.5 + 1 / RATE, "click")]
    elif defect == "dropout":
        x[RATE // 4: RATE // 4 + 800] = 0.0
        regions = [Segment(0.25, 0.3, "dropout")]
    elif defect == "dc_offset":
        x += 0.2
        regions = [Segment(0.0, seconds, "dc_offset")]
    path = folder / f"{name}.wav"
    sf.write(path, x, RATE, subtype="FLOAT")
    meta = {"defect_types": [defect] if defect else []}
    if strong:
        meta["defects"] = [{"type": defect}] if defect else []
    return Example(id=name, audio=str(path), regions=tuple(regions) if strong else (),
                   duration_s=seconds, sample_rate=RATE, group=group, source="test", meta=meta)


def _clip_set(folder: Path, *, tracks: int = 4, strong: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    examples = [_clip(folder, f"t{i}-{d or 'clean'}", group=f"track{i}", defect=d, strong=strong)
                for i in range(tracks) for d in (None, "click", "dropout", "dc_offset")]
    write_manifest(folder / "manifest.jsonl", examples)
    return folder


def _batch(examples, clip_s=1.0):
    items = [DefectClips(examples, types=DEFECT_TYPES, features=FEATURES, clip_s=clip_s)[i]
             for i in range(len(examples))]
    return torch.utils.data.default_collate(items)


def test_a_one_sample_click_marks_the_frame_it_falls_in():
    ex = Example("c", None, regions=(Segment(0.5001, 0.50016, "click"),
                                     Segment(0.2049, 0.2151, "dropout")))
    frames = event_frames(ex, DEFECT_TYPES, 100, 0.01)
    assert np.flatnonzero(frames[0]).tolist() == [50]
    assert np.flatnonzero(frames[1]).tolist() == [20, 21, 22]
    assert frames[2:].sum() == 0


def test_weak_and_strong_labels_of_synthetic_and_user_clips(tmp_path):
    synthetic = _clip(tmp_path, "a", group="g", defect="click")
    clean = _clip(tmp_path, "b", group="g")
    user = _clip(tmp_path, "c", group="g", defect="dropout", strong=False)
    assert weak_types(synthetic) == {"click"} and has_strong(synthetic)
    assert weak_types(clean) == set() and has_strong(clean)
    assert weak_types(user) == {"dropout"} and not has_strong(user)
    with pytest.raises(ConfigError, match="no defect labels"):
        weak_types(Example("d", "x.wav"))


def test_clips_are_padded_and_masked(tmp_path):
    ex = _clip(tmp_path, "short", group="g", defect="click", seconds=0.6)
    item = DefectClips([ex], types=DEFECT_TYPES, features=FEATURES, clip_s=1.0)[0]
    assert item["audio"].shape == (RATE,) and item["mask"].shape == (101,)
    assert int(item["mask"].sum()) == 60 and item["weak"].tolist()[:2] == [1.0, 0.0]
    assert item["strong"][0].nonzero().flatten().tolist() == [50]
    assert bool(item["has_strong"])


def test_clips_that_cannot_train_are_named(tmp_path):
    long = _clip(tmp_path, "long", group="g", seconds=1.5)
    with pytest.raises(ConfigError, match="long.*1.50 s long, more than data.clip_s = 1.0"):
        DefectClips([long], types=DEFECT_TYPES, features=FEATURES, clip_s=1.0)
    with pytest.raises(ConfigError, match="unknown defect types \\['dc_offset'\\]"):
        DefectClips([_clip(tmp_path, "dc", group="g", defect="dc_offset")],
                    types=("click",), features=FEATURES, clip_s=1.0)


@pytest.mark.parametrize("labels", ["weak", "strong"])
def test_training_steps_fit_a_batch(tmp_path, labels):
    examples = [_clip(tmp_path, f"x{d}", group="g", defect=d)
                for d in (None, "click", "dropout", "dc_offset")]
    batch, model, task = _batch(examples), debug_defect_detector().train(), DefectTask(
        DEFECT_TYPES, labels=labels)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(15):
        loss, logged = task.training_step(model, batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(logged["loss"])
    assert losses[-1] < 0.7 * losses[0]


def test_strong_training_needs_strong_labels(tmp_path):
    batch = _batch([_clip(tmp_path, "u", group="g", defect="click", strong=False)])
    with pytest.raises(ConfigError, match="without strong labels"):
        DefectTask(DEFECT_TYPES, labels="strong").training_step(debug_defect_detector(), batch)
    with pytest.raises(ConfigError, match="weak or strong"):
        DefectTask(DEFECT_TYPES, labels="both")


def test_evaluation_reports_per_type_metrics_and_thresholds(tmp_path):
    examples = [_clip(tmp_path, f"e{d}", group="g", defect=d)
                for d in (None, "click", "dropout", "dc_offset")]
    with torch.no_grad():
        metrics = DefectTask(DEFECT_TYPES).evaluate(debug_defect_detector(), [_batch(examples)])
    for name in DEFECT_TYPES:
        assert 0.05 <= metrics[f"threshold/{name}"] <= 0.95
        assert f"balanced_accuracy/{name}" in metrics
    assert {f"frame_f1/{t}" for t in ("click", "dropout", "dc_offset")} <= set(metrics)
    assert "frame_f1/codec" not in metrics and "clip_auc/codec" not in metrics
    assert 0 <= metrics["balanced_accuracy"] <= 1 and "clip_auc" in metrics


def test_clip_metrics_call_a_clip_defective_by_its_highest_frame():
    clip_max = np.array([[0.9], [0.8], [0.2], [0.1]])
    weak = np.array([[True], [True], [False], [False]])
    metrics = type_metrics(clip_max, weak, ("click",), [], [])
    assert metrics["balanced_accuracy/click"] == 1.0 and metrics["clip_auc/click"] == 1.0
    assert 0.2 <= metrics["threshold/click"] < 0.8


def test_roc_auc():
    target = np.array([True, False, True, False])
    assert roc_auc(np.array([0.9, 0.1, 0.8, 0.3]), target) == 1.0
    assert roc_auc(np.array([0.1, 0.9, 0.2, 0.8]), target) == 0.0
    assert roc_auc(np.array([0.5, 0.5, 0.5, 0.5]), target) == 0.5
    assert roc_auc(np.array([0.5, 0.5]), np.array([True, True])) is None


def test_recipe_splits_by_track_and_trains(tmp_path):
    folder = _clip_set(tmp_path / "clips")
    clean = tmp_path / "clean"
    clean.mkdir()
    write_manifest(clean / "manifest.jsonl",
                   [_clip(clean, f"c{i}", group=f"catalog{i}") for i in range(3)])
    recipe = DefectDetectorRecipe(data=DefectData(clips=(str(folder),), clip_s=1.0,
                                                  clean=(str(clean),)),
                                  model=debug_defect_detector().config, train=TINY,
                                  verifier=VerifierTraining(steps=20, batch_clips=4))
    fit_set, val_set = recipe.split(recipe.examples([str(folder)]))
    assert not {ex.group for ex in fit_set} & {ex.group for ex in val_set}
    result = recipe.fit(tmp_path / "run")
    _, checkpoint = load_checkpoint(result.best_path)
    assert checkpoint.meta["types"] == list(DEFECT_TYPES)
    assert checkpoint.meta["labels"] == "weak" and checkpoint.meta["pooling"] == "linear_softmax"
    assert checkpoint.meta["data"]["val_tracks"] == sorted({ex.group for ex in val_set})
    detector = DefectDetector.from_pretrained(result.best_path)
    metrics = checkpoint.meta["training"]["metrics"]
    assert 0 < metrics["threshold/click"] < 1  # the clip-level threshold of validation
    # the decisions calibrated on the validation events replace it
    assert [d.to_dict() for d in detector.decisions] == [checkpoint.meta["decision"][t]
                                                         for t in DEFECT_TYPES]
    # ... calibrated on the validation clips and the clean ones, which never trained
    assert checkpoint.meta["calibration"]["clips"] == len(val_set) + 3
    assert not {ex.group for ex in fit_set} & {"catalog0", "catalog1", "catalog2"}
    # the click verifier was trained on the clips' candidates, after the CRNN
    verifier = checkpoint.meta["verifier"]
    assert verifier["labels"] == "weak" and verifier["steps"] == 20
    assert verifier["types"] == ["click", "discontinuity"]
    clicks = verifier["train"]["click"]["clips"]
    assert clicks == sum("click" in weak_types(ex) for ex in fit_set)
    assert verifier["train"]["candidates"] >= clicks > 0


def test_clean_calibration_clips_must_be_clean(tmp_path):
    folder = _clip_set(tmp_path / "clips")
    recipe = DefectDetectorRecipe(data=DefectData(clips=(str(folder),), clean=(str(folder),)))
    with pytest.raises(ConfigError, match="data.clean: 12 clips have defects"):
        recipe.calibration_clips([])


def test_strong_recipe_refuses_weakly_labelled_clips(tmp_path):
    folder = _clip_set(tmp_path / "clips", strong=False)
    recipe = DefectDetectorRecipe(labels="strong", data=DefectData(clips=(str(folder),)))
    with pytest.raises(ConfigError, match="weak labels only"):
        recipe.split(recipe.examples([str(folder)]))
    verifier = DefectDetectorRecipe(data=DefectData(clips=(str(folder),)),
                                    model=debug_defect_detector().config,
                                    verifier=VerifierTraining(labels="strong"))
    with pytest.raises(ConfigError, match="verifier.labels: strong"):
        verifier.split(verifier.examples([str(folder)]))
    with pytest.raises(ConfigError, match="no training data"):
        DefectDetectorRecipe().fit(tmp_path / "run")


def test_debug_recipe_loads_with_pooling_overrides():
    path = REPO / "configs/defects/debug.yaml"
    recipe = load_recipe(path, ["model.pooling=auto"], capability="defects")
    assert isinstance(recipe, DefectDetectorRecipe) and recipe.model.pooling == "auto"
    assert load_recipe(path).model.pooling == "linear_softmax"


@pytest.mark.slow
def test_train_defects_from_the_debug_recipe(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "defects", "--config", str(REPO / "configs/defects/debug.yaml"),
                 "--out", str(out), "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 2
    manifest = (out / "synth" / "defects" / "manifest.jsonl").read_text().splitlines()
    assert len(manifest) == 8
    detector = DefectDetector.from_pretrained(summary["best"])
    report = detector.detect(out / "synth" / "defects" / "defects-000000" / "audio.flac")
    assert report.duration_s == pytest.approx(2.0)
    # the decisions were calibrated on the validation clips, into the checkpoint
    meta = load_checkpoint(summary["best"])[1].meta
    assert set(meta["decision"]) == set(DEFECT_TYPES) and meta["calibration"]["clips"] >= 1
    assert [d.to_dict() for d in detector.decisions] == [meta["decision"][t]
                                                         for t in DEFECT_TYPES]
