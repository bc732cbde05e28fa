"""The defect detector recipe: a CRNN trained from weakly labelled clips (MIL pooling).

After training, a model with a candidate verifier (``model.verifier_hidden``) has it
trained on the clips' residual outliers (:mod:`cantata.train.tasks.verifier`), and then the
best checkpoint's per-type decisions (model, rules, rules the model confirms, or verified
candidates, and their levels) are calibrated on the strongly labelled validation
clips (:mod:`cantata.defects.calibration`).

The clips come as folders with a manifest (``DIR/manifest.jsonl`` of
:class:`~cantata.data.records.Example`: ``meta["defect_types"]`` the clip's defect types,
``regions`` the events where known; ``cantata data synth defects`` makes them). They are
split by source track (``group``), never by clip, so validation hears music the model
never trained on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from cantata.data.records import Example, read_manifest
from cantata.data.split import split_by_group
from cantata.defects.calibration import CATALOG_CLEAN_SHARE, calibrate_checkpoint
from cantata.errors import ConfigError
from cantata.models.defect_detector import DefectDetector, DefectDetectorConfig
from cantata.models.registry import build, load_checkpoint, save_checkpoint
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.loop import FitResult
from cantata.train.recipes import DEFAULT_TRAIN, Recipe, Synth, fit_input_stats, run
from cantata.train.tasks.defects import LABELS, DefectClips, DefectTask, has_strong
from cantata.train.tasks.verifier import candidate_bags, fit_verifier


@dataclass(frozen=True)
class DefectSynth:
    """Defect clips made for the run (the debug recipe trains on them; a rerun keeps the
    ones made): ``songs`` synthetic songs (``cantata data synth song``, into
    ``OUT/synth/song``) cut into clips with defects injected (``cantata data synth
    defects``, into ``OUT/synth/defects``).

    Attributes:
        songs: the clean music.
        clips: how many clips.
        clip_s: length of each.
        p_clean: share of clips left clean.
    """

    songs: Synth = Synth(examples=3, seconds=6.0)
    clips: int = 8
    clip_s: float = 2.0
    p_clean: float = 0.25

    def make(self, out_dir: str | os.PathLike[str]) -> str:
        """Make the songs, then the clips; returns the clips' folder."""
        from cantata.data.synth.defect_clips import DefectSetConfig, synthesize_defects
        from cantata.data.synth.defects import InjectConfig

        songs = self.songs.make("song", out_dir)
        folder = Path(out_dir) / "synth" / "defects"
        config = DefectSetConfig(music=(songs,), example_s=self.clip_s,
                                 inject=InjectConfig(p_clean=self.p_clean))
        synthesize_defects(hours=(self.clips - 0.5) * self.clip_s / 3600, out_dir=folder,
                           seed=self.songs.seed, config=config)
        return str(folder)


@dataclass(frozen=True)
class DefectData:
    """The clips to learn from.

    Attributes:
        clips: folders holding a manifest of labelled clips.
        synth: clips made for the run, added to ``clips``.
        clip_s: every clip is zero-padded to this length (the padding is masked out of
            the pooling); a longer clip is an error.
        validation: the fraction of the material, in whole source tracks, that validates
            (picks the checkpoint and calibrates the thresholds).
        clean: folders of clean clips (music like the catalog's, without defects: ``cantata
            data synth defects --p-clean 1``) that only calibrate the decisions: every
            event on them is a false alarm. Never trained on.
    """

    clips: tuple[str, ...] = ()
    synth: DefectSynth | None = None
    clip_s: float = 10.0
    validation: float = 0.2
    clean: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifierTraining:
    """How the candidate verifier learns (after the CRNN; see
    :func:`~cantata.train.tasks.verifier.fit_verifier`).

    Attributes:
        labels: ``"weak"``: a clip's labels through max pooling over its candidates;
            ``"strong"``: each candidate's own labels (needs strong labels).
        steps: optimiser steps.
        batch_clips: clips per step.
        lr: Adam's learning rate.
    """

    labels: Literal["weak", "strong"] = "weak"
    steps: int = 3000
    batch_clips: int = 64
    lr: float = 1e-3


@dataclass(frozen=True)
class DefectDetectorRecipe(Recipe):
    """The defect detector, from weak labels (or strong ones, to measure their worth).

    Attributes:
        labels: ``"weak"``: clip labels through the model's MIL pooling
            (``model.pooling``); ``"strong"``: frame labels (every training clip needs them).
        data: the clips.
        model: the network (its ``pooling`` is the MIL pooling of weak training).
        train: the loop's settings.
        verifier: how the candidate verifier learns (with ``model.verifier_hidden``).
        catalog_clean_share: the share of clean audio a catalog is taken to hold; the
            calibration of the decisions weighs false events on clean validation clips by
            it (a synthetic validation set is mostly defective, a catalog mostly clean).
    """

    name: ClassVar[str] = "defect-detector"
    capability: ClassVar[str] = "defects"
    labels: Literal["weak", "strong"] = "weak"
    data: DefectData = DefectData()
    model: DefectDetectorConfig = DefectDetectorConfig()
    train: TrainConfig = DEFAULT_TRAIN
    verifier: VerifierTraining = VerifierTraining()
    catalog_clean_share: float = CATALOG_CLEAN_SHARE

    def __post_init__(self) -> None:
        if self.labels not in LABELS or self.verifier.labels not in LABELS:
            raise ConfigError(f"labels and verifier.labels must be weak or strong, got "
                              f"{self.labels!r}, {self.verifier.labels!r}")
        if not 0 < self.catalog_clean_share < 1:
            raise ConfigError(f"catalog_clean_share must be within (0, 1), got "
                              f"{self.catalog_clean_share}")

    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """See :meth:`Recipe.fit`."""
        folders = list(self.data.clips)
        if self.data.synth is not None:
            folders.append(self.data.synth.make(out_dir))
        fit_set, val_set = self.split(self.examples(folders))
        features, types = self.model.features, self.model.types
        train_data = DefectClips(fit_set, types=types, features=features,
                                 clip_s=self.data.clip_s,
                                 length=self.train.max_steps * self.train.batch_size,
                                 seed=self.train.seed)
        val_data = DefectClips(val_set, types=types, features=features, clip_s=self.data.clip_s)
        model: DefectDetector = build("defect-detector", self.model)
        fit_input_stats(model.front, train_data, lambda item: model.log_mel(item["audio"][None])[0])
        meta = {"types": list(types), "sample_rate": features.sample_rate,
                "features": features.to_dict(), "labels": self.labels,
                "pooling": self.model.pooling,
                "data": describe(folders, fit_set, val_set)}
        result = run(self, model, DefectTask(types, labels=self.labels), train_data, val_data,
                     out_dir=out_dir, model_config=self.model, meta=meta, command=command,
                     on_progress=on_progress)
        if model.verifier is not None:
            self.fit_verifier(result.best_path, fit_set, val_set)
        calibrate_checkpoint(result.best_path, self.calibration_clips(val_set),
                             catalog_clean_share=self.catalog_clean_share)
        return result

    def calibration_clips(self, val_set: list[Example]) -> list[Example]:
        """The clips the decisions are calibrated on: the validation clips, then the clean
        clips of ``data.clean``.

        Raises:
            ConfigError: a clip of ``data.clean`` that has a defect.
        """
        clean = self.examples(list(self.data.clean)) if self.data.clean else []
        damaged = [ex.id for ex in clean if ex.meta.get("defects") or ex.meta.get("defect_types")]
        if damaged:
            raise ConfigError(f"data.clean: {len(damaged)} clips have defects (e.g. "
                              f"{damaged[0]!r}); make clean ones with --p-clean 1")
        return [*val_set, *clean]

    def fit_verifier(self, path: str | os.PathLike[str], fit_set: list[Example],
                     val_set: list[Example]) -> dict[str, Any]:
        """Train the candidate verifier of the checkpoint in ``path`` on the clips'
        residual outliers and write it back (its record in ``meta["verifier"]``)."""
        model, checkpoint = load_checkpoint(path)
        settings, types = self.verifier, model.verifier.types
        record = fit_verifier(model.verifier, candidate_bags(fit_set, types),
                              candidate_bags(val_set, types), labels=settings.labels,
                              steps=settings.steps, batch_clips=settings.batch_clips,
                              lr=settings.lr, seed=self.train.seed)
        save_checkpoint(path, model, name=checkpoint.name, config=checkpoint.config,
                        meta={**checkpoint.meta, "verifier": record})
        return record

    @staticmethod
    def examples(folders: Sequence[str]) -> list[Example]:
        """Every clip of the manifests in ``folders``.

        Raises:
            ConfigError: no folder, or no clip in them.
        """
        if not folders:
            raise ConfigError("no training data: set data.clips (folders made by `cantata "
                              "data synth defects`) or data.synth")
        examples = [ex for folder in folders for ex in read_manifest(folder)]
        if not examples:
            raise ConfigError(f"data.clips: no clips in {', '.join(folders)}")
        return examples

    def split(self, examples: list[Example]) -> tuple[list[Example], list[Example]]:
        """(train, validation) clips, by source track.

        Raises:
            ConfigError: too few tracks to split, or (strong labels) a training clip
                without strong labels.
        """
        fit_set, val_set = split_by_group(examples, validation=self.data.validation,
                                          seed=self.train.seed)
        weak_only = [ex.id for ex in fit_set if not has_strong(ex)]
        strong = [name for name, wanted in (("labels", self.labels),
                                            ("verifier.labels", self.verifier.labels))
                  if wanted == "strong" and (name == "labels" or self.model.verifier_hidden)]
        if strong and weak_only:
            raise ConfigError(f"{strong[0]}: strong, but {len(weak_only)} training clips have "
                              f"weak labels only (e.g. {weak_only[0]!r})")
        return fit_set, val_set


def describe(folders: Sequence[str], fit_set: list[Example],
             val_set: list[Example]) -> dict[str, Any]:
    """The data of a run, for the checkpoint's ``meta["data"]``."""
    return {"clips": list(folders), "train_clips": len(fit_set), "val_clips": len(val_set),
            "train_tracks": len({ex.group for ex in fit_set}),
            "val_tracks": sorted({ex.group for ex in val_set})}
