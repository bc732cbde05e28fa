"""Distilling a teacher: teacher files, soft targets with honest overrides, a tiny run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cantata.data.synth.tag_clips import write_tag_clips
from cantata.errors import ConfigError
from cantata.features import FeatureConfig
from cantata.models.registry import load_checkpoint
from cantata.models.tagger import TaggerConfig
from cantata.tag.labels import TagItem, item_truth, read_labels, read_teacher
from cantata.train.config import TrainConfig
from cantata.train.recipes.tag import TagData, TaggerRecipe
from cantata.train.tasks.tag import TagTask, TeacherChunks

FEATURES = FeatureConfig(kind="logmel", sample_rate=16000, n_fft=512, hop_length=256,
                         n_mels=16, n_mfcc=13)
TEACHER_TAGS = ("tone", "noise", "beat", "choir")


def write_teacher(path, seconds: float, seed: int) -> None:
    """A fake teacher: chunks of 1 s every 0.5 s with random scores."""
    starts = np.arange(0.0, max(seconds - 1.0, 0.0) + 1e-9, 0.5)
    scores = np.random.default_rng(seed).random((len(starts), len(TEACHER_TAGS)))
    np.savez(path, starts=starts, scores=scores, tags=np.array(TEACHER_TAGS),
             teacher=np.array("fake 1.0"))


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):
    """A JSONL labels file whose rows name teacher files (and some honest labels)."""
    root = tmp_path_factory.mktemp("distil")
    clips = write_tag_clips(root / "clips", clips=6, seconds=2.0)
    rows = []
    for i, item in enumerate(read_labels(clips).items):
        write_teacher(root / f"t{i}.npz", 2.0, i)
        rows.append({"path": item.audio, "album": f"g{i % 3}", "teacher": f"t{i}.npz",
                     "tags": ["tone"] if i == 0 else [],
                     "absent": ["beat"] if i == 1 else []})
    labels = root / "train.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return labels


def test_teacher_rows_read_with_the_teachers_vocabulary(distilled):
    found = read_labels(distilled)
    assert found.vocabulary == TEACHER_TAGS
    first, second = found.items[:2]
    assert first.tags == {"tone"} and second.absent == {"beat"}
    assert all(item.teacher and item.teacher.endswith(".npz") for item in found.items)


def test_soft_targets_keep_the_honest_labels(distilled):
    first, second = read_labels(distilled).items[:2]
    teacher = read_teacher(first.teacher)
    targets = teacher.targets(first, ("tone", "beat"))
    assert targets.shape == (len(teacher.starts), 2)
    assert (targets[:, 0] == 1).all() and np.allclose(targets[:, 1], teacher.scores[:, 2])
    assert (read_teacher(second.teacher).targets(second, ("beat",)) == 0).all()
    truth = item_truth(first, ("tone", "noise"))
    assert truth[0] and truth[1] == (teacher.scores[:, 1].mean() >= 0.5)
    with pytest.raises(ConfigError, match="no tag 'jazz'"):
        teacher.targets(first, ("jazz",))


def test_mixed_or_broken_teacher_rows_are_refused(distilled, tmp_path):
    rows = [json.loads(line) for line in distilled.read_text().splitlines()]
    for row in rows:
        row["teacher"] = str(distilled.parent / row["teacher"])
    mixed = tmp_path / "mixed.jsonl"
    del rows[2]["teacher"]
    rows[2]["tags"] = ["tone"]
    mixed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ConfigError, match=r"mixed.jsonl:3: no teacher file"):
        read_labels(mixed)
    rows[2]["teacher"] = str(tmp_path / "gone.npz")
    mixed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ConfigError, match=r"mixed.jsonl:3: teacher file .*gone.npz not found"):
        read_labels(mixed)
    bad = tmp_path / "bad.npz"
    np.savez(bad, starts=np.zeros(3), scores=np.zeros((2, 4)), tags=np.array(TEACHER_TAGS),
             teacher=np.array("x"))
    with pytest.raises(ConfigError, match="do not fit"):
        read_teacher(bad)


def test_teacher_chunks(distilled):
    items = read_labels(distilled).items
    train = TeacherChunks(items, tags=TEACHER_TAGS, features=FEATURES, chunk_s=1.0,
                          length=7, seed=3)
    item = train[4]  # as many frames as inference's chunks (TaggerConfig.chunk_frames)
    assert item["features"].shape == (16, 62) and item["target"].shape == (4,)
    assert np.allclose(train[4]["features"], item["features"])
    val = TeacherChunks(items, tags=TEACHER_TAGS, features=FEATURES, chunk_s=1.0,
                        val_chunks=2)
    assert len(val) == 12
    song = int(val[3]["song"])
    teacher = read_teacher(items[song].teacher)
    assert np.allclose(val[3]["target"], teacher.targets(items[song], TEACHER_TAGS)[-1])


def test_soft_task_selects_by_loss():
    assert (TagTask(("a",), soft=True).metric, TagTask(("a",)).metric) == ("loss", "roc_auc")
    assert TagTask(("a",), soft=True).higher_is_better is False


def test_distilling_run_calibrates_against_the_teacher(distilled, tmp_path):
    model = TaggerConfig(features=FEATURES, chunk_s=1.0, channels=(4, 8), hidden=8,
                         dropout=0.0)
    recipe = TaggerRecipe(data=TagData(labels=str(distilled), validation=0.3, val_chunks=2),
                          model=model, train=TrainConfig(max_steps=2, batch_size=4,
                                                         eval_every=2))
    result = recipe.fit(tmp_path / "run")
    _, checkpoint = load_checkpoint(result.best_path)
    assert checkpoint.meta["teacher"] == "fake 1.0"
    assert checkpoint.meta["tags"] == list(TEACHER_TAGS)
    assert set(checkpoint.meta["thresholds"]) == set(TEACHER_TAGS)
    assert "loss" in result.history[-1]["metrics"]


def test_tag_item_defaults_stay_hard():
    item = TagItem("a.wav", frozenset({"x"}), "g", 1)
    assert item.teacher is None and item_truth(item, ("x", "y")).tolist() == [True, False]
