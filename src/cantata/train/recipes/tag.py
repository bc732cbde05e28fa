"""The tagger recipe: a short-chunk CNN with one binary head per tag, from a labels file.

The labels file (``data.labels``: CSV or JSONL with ``path`` and ``tags``, MagnaTagATune's
``annotations_final.csv`` or an MTG-Jamendo TSV; :mod:`cantata.tag.labels`) is split by
artist (else album, else song) so validation hears no artist it trained on. Validation
picks the checkpoint; then each tag's F1-optimal threshold is calibrated on the validation
recordings, tagged as inference tags them, into the checkpoint
(:mod:`cantata.tag.calibration`).

Rows that name a teacher file distil it (:class:`~cantata.train.tasks.tag.TeacherChunks`:
each chunk learns the teacher's scores, the honest labels overriding them); the shipped
tagger is made so (``configs/tag/tagger.yaml``, docs/tagging.md).

A cascade (``cascade: parent:child``) trains the child tag alone, as one binary net on the
parent's positives only: a finer classifier behind a coarse one (``bench/tag_cascade.py``
compares it with the flat head).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from cantata.errors import ConfigError
from cantata.models.registry import build
from cantata.models.tagger import TaggerConfig
from cantata.tag.calibration import attach_lyrics_heads, calibrate_checkpoint
from cantata.tag.labels import FORMATS, TagItem, TagSet, read_labels, read_teacher
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.loop import FitResult
from cantata.train.recipes import DEFAULT_TRAIN, Recipe, run
from cantata.train.tasks.tag import TagChunks, TagTask, TeacherChunks


@dataclass(frozen=True)
class TagSynth:
    """Tagged clips of simple sounds made for the run, into ``OUT/synth/tag``
    (:mod:`cantata.data.synth.tag_clips`: tags tone, high, noise, beat); the debug recipe
    trains on them.

    Attributes:
        clips: how many.
        seconds: length of each.
        seed: the set is a function of the seed.
    """

    clips: int = 12
    seconds: float = 2.0
    seed: int = 0

    def make(self, out_dir: str | os.PathLike[str]) -> str:
        """Write the clips; returns their labels file."""
        from cantata.data.synth.tag_clips import write_tag_clips

        return str(write_tag_clips(Path(out_dir) / "synth" / "tag", clips=self.clips,
                                   seconds=self.seconds, seed=self.seed))


@dataclass(frozen=True)
class TagData:
    """The labelled recordings.

    Attributes:
        labels: the labels file (see :mod:`cantata.tag.labels`).
        format: its format, or ``auto``.
        audio_root: where its relative audio paths start (default: its folder).
        tags: the vocabulary to train (default: every tag of the file, most frequent first).
        synth: clips made for the run, used when ``labels`` is not given.
        validation: the fraction of recordings, in whole groups, that validates.
        val_chunks: evenly spaced chunks per validation recording at each evaluation.
        teacher_decision: when distilling, a teacher's song score at or above this is
            its decision that the tag is present (validation and calibration); honest
            labels override it.
        lyrics: also fit late-fusion lyrics heads on the training recordings' lyrics (the
            labels file's ``lyrics`` column, else the ``.txt`` beside the audio; needs
            ``pip install 'cantata[lyrics]'``), for ``cantata tag --lyrics``.
    """

    labels: str | None = None
    format: str = "auto"
    audio_root: str | None = None
    tags: tuple[str, ...] = ()
    synth: TagSynth | None = None
    validation: float = 0.2
    val_chunks: int = 4
    teacher_decision: float = 0.5
    lyrics: bool = False


@dataclass(frozen=True)
class TaggerRecipe(Recipe):
    """A tagger (or, with ``cascade``, the child stage of a cascade).

    Attributes:
        data: the labelled recordings.
        model: the network; its ``tags`` are set from the data.
        cascade: ``"parent:child"``: train ``child`` alone on the recordings tagged
            ``parent``; None: one head per tag of the vocabulary.
        train: the loop's settings.
    """

    name: ClassVar[str] = "tagger"
    capability: ClassVar[str] = "tag"
    data: TagData = TagData()
    model: TaggerConfig = TaggerConfig()
    cascade: str | None = None
    train: TrainConfig = DEFAULT_TRAIN

    def __post_init__(self) -> None:
        if self.data.format not in FORMATS:
            raise ConfigError(f"data.format must be one of {list(FORMATS)}, got "
                              f"{self.data.format!r}")
        if not 0 < self.data.validation < 1 or self.data.val_chunks < 1 \
                or not 0 < self.data.teacher_decision < 1:
            raise ConfigError(f"data.validation and data.teacher_decision must lie in (0, 1) "
                              f"and data.val_chunks be >= 1, got {self.data.validation}, "
                              f"{self.data.teacher_decision}, {self.data.val_chunks}")
        if self.cascade is not None:
            parent, _, child = self.cascade.partition(":")
            if not parent or not child or parent == child:
                raise ConfigError(f"cascade must read parent:child, got {self.cascade!r}")

    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """See :meth:`Recipe.fit`."""
        labels = self.labels_file(out_dir)
        found = read_labels(labels, format=self.data.format, audio_root=self.data.audio_root,
                            tags=self.data.tags or None)
        items, tags = self.stage(found)
        fit_set, val_set = split_groups(items, self.data.validation, seed=self.train.seed)
        config = replace(self.model, tags=tags)
        soft = items[0].teacher is not None
        chunks = TeacherChunks if soft else TagChunks
        train_data = chunks(fit_set, tags=tags, features=config.features,
                            chunk_s=config.chunk_s,
                            length=self.train.max_steps * self.train.batch_size,
                            seed=self.train.seed)
        val_data = chunks(val_set, tags=tags, features=config.features,
                          chunk_s=config.chunk_s, val_chunks=self.data.val_chunks)
        meta = {"tags": list(tags), "sample_rate": config.features.sample_rate,
                "features": config.features.to_dict(), "pooling": "mean",
                "cascade": self.cascade_meta(),
                "data": describe(labels, found, tags, fit_set, val_set)}
        decision = self.data.teacher_decision
        if soft:
            meta.update(teacher=read_teacher(str(items[0].teacher)).name,
                        teacher_decision=decision)
        result = run(self, build("tagger", config),
                     TagTask(tags, soft=soft, decision=decision), train_data, val_data,
                     out_dir=out_dir, model_config=config, meta=meta, command=command,
                     on_progress=on_progress)
        calibrate_checkpoint(result.best_path, val_set, decision)
        if self.data.lyrics:
            attach_lyrics_heads(result.best_path, fit_set, decision=decision)
        return result

    def labels_file(self, out_dir: str | os.PathLike[str]) -> str:
        """``data.labels``, else the labels of the clips ``data.synth`` makes now.

        Raises:
            ConfigError: neither given.
        """
        if self.data.labels is not None:
            return self.data.labels
        if self.data.synth is None:
            raise ConfigError("no training data: set data.labels (a labels file: CSV/JSONL "
                              "with path and tags, MagnaTagATune or MTG-Jamendo) or "
                              "data.synth")
        return self.data.synth.make(out_dir)

    def stage(self, found: TagSet) -> tuple[list[TagItem], tuple[str, ...]]:
        """The recordings and tags this run trains: all of them, or a cascade's child on
        its parent's positives.

        Raises:
            ConfigError: a cascade tag outside the vocabulary.
        """
        if self.cascade is None:
            return found.items, found.vocabulary
        parent, _, child = self.cascade.partition(":")
        missing = [t for t in (parent, child) if t not in found.vocabulary]
        if missing:
            raise ConfigError(f"cascade: {', '.join(missing)} not among the tags of "
                              f"{found.source} ({', '.join(found.vocabulary)})")
        return [item for item in found.items if parent in item.tags], (child,)

    def cascade_meta(self) -> dict[str, str] | None:
        if self.cascade is None:
            return None
        parent, _, child = self.cascade.partition(":")
        return {"parent": parent, "child": child}


def split_groups(items: list[TagItem], validation: float, *, seed: int
                 ) -> tuple[list[TagItem], list[TagItem]]:
    """(train, validation): whole groups, drawn in a seeded order until the validation
    side holds ``validation`` of the recordings (at least one group; one group stays to
    train).

    Raises:
        ConfigError: fewer than two groups.
    """
    groups = sorted({item.group for item in items})
    if len(groups) < 2:
        raise ConfigError(f"need recordings of at least two groups (artists, albums or "
                          f"songs) to split off validation, got {len(groups)}")
    order = [groups[i] for i in np.random.default_rng(seed).permutation(len(groups))]
    size = {g: 0 for g in groups}
    for item in items:
        size[item.group] += 1
    held: set[str] = set()
    for group in order[:-1]:
        if sum(size[g] for g in held) >= validation * len(items):
            break
        held.add(group)
    return ([item for item in items if item.group not in held],
            [item for item in items if item.group in held])


def describe(labels: str, found: TagSet, tags: tuple[str, ...], fit_set: list[TagItem],
             val_set: list[TagItem]) -> dict[str, Any]:
    """The data of a run, for the checkpoint's ``meta["data"]``."""
    def positives(items: list[TagItem]) -> dict[str, int]:
        return {t: sum(t in item.tags for item in items) for t in tags}

    return {"labels": labels, "recordings": len(found.items),
            "train_recordings": len(fit_set), "val_recordings": len(val_set),
            "train_positives": positives(fit_set), "val_positives": positives(val_set)}
