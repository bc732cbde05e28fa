"""Detector recipes: the speech detector (the source task) and the singing detector, which
learns from a small labelled song set with conv layers moved from a speech detector."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import torch

from cantata.data.mixing import DynamicMixDataset, MixConfig
from cantata.data.records import read_manifest
from cantata.data.sources import load_mir1k
from cantata.data.split import split_by_group
from cantata.data.synth.leads import LeadOverlay
from cantata.detect.transfer import transfer
from cantata.errors import ConfigError
from cantata.features import FeatureExtractor
from cantata.models.detector import (
    FrontConfig,
    SingingDetector,
    SingingDetectorConfig,
    SpeechDetector,
    SpeechDetectorConfig,
)
from cantata.models.registry import build
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.lineage import lineage_of
from cantata.train.loop import FitResult
from cantata.train.recipes import (
    DEFAULT_TRAIN,
    EVAL_WINDOW_S,
    Recipe,
    SongData,
    Synth,
    fit_input_stats,
    init_model,
    run,
    split_singers,
    training_instrumentals,
    with_synth,
)
from cantata.train.tasks.detection import (
    DETECTOR_FEATURES,
    ClipWindows,
    CropDataset,
    DetectionTask,
    MixedSongs,
)

TASK_LABELS = {"binary": ("vocal",), "multilabel": ("vocal", "accompaniment", "silence")}
SEGMENT_S = 4.0
#: on-the-fly MIR-1K mixes for the detectors: 4 s, 16 kHz mono, labels at the detector hop
DETECTOR_MIX = MixConfig(segment_s=SEGMENT_S, sample_rate=DETECTOR_FEATURES.sample_rate,
                         label_hop_s=DETECTOR_FEATURES.hop_length / DETECTOR_FEATURES.sample_rate,
                         p_pitch_tempo=0.1)


@dataclass(frozen=True)
class SpeechData:
    """Speech mixes to learn from.

    Attributes:
        speech_mixes: folders with a manifest (``cantata data synth speech-mix``).
        synth: speech mixes made for the run, added to ``speech_mixes``.
    """

    speech_mixes: tuple[str, ...] = ()
    synth: Synth | None = None


@dataclass(frozen=True)
class SpeechDetectorRecipe(Recipe):
    """The source-task speech detector, on speech mixes.

    One tenth of the mixes (whole examples) validate; the rest train on random 4 s crops.

    Attributes:
        data: the speech mixes.
        model: the network.
        train: the loop's settings.
    """

    name: ClassVar[str] = "speech-detector"
    capability: ClassVar[str] = "detect"
    data: SpeechData = SpeechData()
    model: SpeechDetectorConfig = SpeechDetectorConfig()
    train: TrainConfig = DEFAULT_TRAIN

    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """See :meth:`Recipe.fit`."""
        if not (self.data.speech_mixes or self.data.synth):
            raise ConfigError("no training data: set data.speech_mixes (or data.synth)")
        folders = with_synth(self.data.speech_mixes, self.data.synth, "speech-mix", out_dir)
        examples = [ex for d in folders for ex in read_manifest(d)]
        if not any(seg.label == "speech" for ex in examples for seg in ex.regions):
            raise ConfigError(f"data.speech_mixes: no speech regions in {folders}: make speech "
                              "mixes with `cantata data synth speech-mix`")
        train = self.train
        fit_set, val_set = split_by_group(examples, validation=0.1, seed=train.seed)
        labels = self.model.labels
        train_data = CropDataset(fit_set, labels=labels, segment_s=SEGMENT_S,
                                 features=DETECTOR_FEATURES,
                                 length=train.max_steps * train.batch_size, seed=train.seed)
        val_data = ClipWindows(val_set, labels=labels, window_s=EVAL_WINDOW_S,
                               features=DETECTOR_FEATURES)
        model = build("speech-detector", self.model)
        fit_input_stats(model.front, train_data, detector_input())
        meta = _meta(labels, data={"speech_mixes": folders, "train_examples": len(fit_set),
                                   "val_examples": len(val_set)})
        return run(self, model, DetectionTask(DETECTOR_FEATURES, labels), train_data, val_data,
                   out_dir=out_dir, model_config=self.model, meta=meta, command=command,
                   on_progress=on_progress)


@dataclass(frozen=True)
class Transfer:
    """Conv layers moved from a speech detector.

    Attributes:
        init: the speech-detector checkpoint to move them from.
        layers: how many bottom conv layers to move (a number, or ``"all"``).
        mode: the moved layers ``"fixed"`` (frozen) or ``"finetune"``d; ``"none"``: no
            transfer.
    """

    init: str | None = None
    layers: int | Literal["all"] = "all"
    mode: Literal["fixed", "finetune", "none"] = "none"


@dataclass(frozen=True)
class DetectorMix:
    """What the singing detector's training mixes sound like.

    Attributes:
        p_production: probability that a mix is produced like a studio song (vocal chain
            with doubles, harmonies and sends, mastered to -14..-7 LUFS, sometimes an MP3:
            :mod:`cantata.data.production`).
        p_leads: probability that an instrumental-pool item carries a synthetic lead line
            no voice sang (:mod:`cantata.data.synth.leads`), or is one alone: hard
            negatives.
    """

    p_production: float = 0.0
    p_leads: float = 0.0


@dataclass(frozen=True)
class SingingDetectorRecipe(Recipe):
    """The CRNN singing detector, on a small labelled song set, with transfer.

    Attributes:
        task: ``"binary"`` (vocal) or ``"multilabel"`` (vocal, accompaniment, silence).
        causal: the live variant (causal convolutions, unidirectional GRU).
        data: MIR-1K (the ``VAL_SINGERS`` pick the checkpoint) and/or labelled songs (a
            tenth validate without MIR-1K); instrumentals are heard as whole
            instrumental crops half the time and under training vocals the other half (a
            third of all items), so that lead instruments are not taken for voice.
        transfer: the layers moved from a speech detector.
        mix: production and hard negatives in the training mixes.
        init: a trained singing detector to go on training (weights and input
            normalisation; its task and causality must match); no transfer then.
        train: the loop's settings.
    """

    name: ClassVar[str] = "singing-detector"
    capability: ClassVar[str] = "detect"
    task: Literal["binary", "multilabel"] = "binary"
    causal: bool = False
    data: SongData = SongData()
    transfer: Transfer = Transfer()
    mix: DetectorMix = DetectorMix()
    init: str | None = None
    train: TrainConfig = DEFAULT_TRAIN

    def __post_init__(self) -> None:
        if self.task not in TASK_LABELS:
            raise ConfigError(f"task must be binary or multilabel, got {self.task!r}")
        for key in ("p_production", "p_leads"):
            if not 0.0 <= getattr(self.mix, key) <= 1.0:
                raise ConfigError(f"mix.{key} must be in [0, 1], got {getattr(self.mix, key)}")
        if self.transfer.mode != "none" and self.transfer.init is None:
            raise ConfigError(f"transfer.mode {self.transfer.mode!r} needs transfer.init, a "
                              "speech-detector checkpoint")

    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """See :meth:`Recipe.fit`."""
        labels, init = TASK_LABELS[self.task], self.transfer.init
        train_data, val_data, data_meta = _singing_data(self.data, self.mix, labels,
                                                        self.train, out_dir)
        if self.init is not None:
            model = _continued(self.init, labels, self.causal)
            model_config, moved = model.config, 0
            transferred = {"init": None, "layers": 0, "mode": "none"}
        else:
            source = None if init is None else init_model(
                init, SpeechDetector, key="transfer.init", kind="speech-detector one")
            front = source.config.front if source is not None else FrontConfig()
            model_config = SingingDetectorConfig(front=replace(front, causal=self.causal),
                                                 labels=labels)
            model = build("singing-detector", model_config)
            moved = 0 if source is None else transfer(
                source, model, n_layers=self.transfer.layers, mode=self.transfer.mode)
            if moved == 0:
                fit_input_stats(model.front, train_data, detector_input())
            transferred = {"init": init, "layers": moved, "mode": self.transfer.mode}
        meta = _meta(labels, data=data_meta, task=self.task, causal=self.causal,
                     transfer=transferred, init=self.init, lineage=lineage_of(self.init),
                     mix={"p_production": self.mix.p_production,
                          "p_leads": self.mix.p_leads})
        return run(self, model, DetectionTask(DETECTOR_FEATURES, labels), train_data, val_data,
                   out_dir=out_dir, model_config=model_config, meta=meta, command=command,
                   on_progress=on_progress)


def _continued(path: str, labels: tuple[str, ...], causal: bool) -> SingingDetector:
    """The singing detector ``init`` names, checked to fit the recipe."""
    model = init_model(path, SingingDetector, key="init", kind="singing detector")
    if tuple(model.config.labels) != labels or model.config.front.causal != causal:
        raise ConfigError(f"init: {path} detects {list(model.config.labels)} "
                          f"({'causal' if model.config.front.causal else 'offline'}), not "
                          f"{list(labels)} ({'causal' if causal else 'offline'})")
    return model


def _singing_data(data: SongData, mix: DetectorMix, labels: tuple[str, ...],
                  train: TrainConfig, out_dir: str | os.PathLike[str]
                  ) -> tuple[Any, Any, dict[str, Any]]:
    """(train dataset, validation dataset, description) from MIR-1K and/or labelled songs,
    with vocal-free instrumentals (and synthetic leads over them)."""
    length = train.max_steps * train.batch_size
    parts, val_examples, meta, vocal_pool = [], [], {}, []
    mixes = replace(DETECTOR_MIX, p_production=mix.p_production)
    if data.mir1k is not None:
        split = split_singers(load_mir1k(data.mir1k), train_singers=data.train_singers)
        parts.append(MixedSongs(DynamicMixDataset(split.train, mixes, length=length,
                                                  seed=train.seed),
                                labels=labels, features=DETECTOR_FEATURES))
        vocal_pool, val_examples = split.train, split.val
        meta.update(mir1k=data.mir1k, **split.describe())
    songs = with_synth(data.songs, data.synth, "song", out_dir)
    song_examples = [ex for d in songs for ex in read_manifest(d)]
    if song_examples:
        fit_songs, val_songs = split_by_group(song_examples, validation=0.1, seed=train.seed)
        parts.append(CropDataset(fit_songs, labels=labels, segment_s=SEGMENT_S,
                                 features=DETECTOR_FEATURES, length=length, seed=train.seed))
        val_examples = val_examples if data.mir1k is not None else val_songs
        meta.update(songs=songs, train_songs=len(fit_songs))
        vocal_pool = vocal_pool or fit_songs
    if not parts:
        raise ConfigError("no training data: set data.mir1k and/or data.songs (or data.synth)")
    if data.instrumentals:
        backing = training_instrumentals(data.instrumentals)
        backing_mixes = replace(mixes, p_vocal_only=0.0, p_accompaniment_only=0.5)
        part: Any = MixedSongs(DynamicMixDataset(vocal_pool, backing_mixes, length=length,
                                                 seed=train.seed + 1, accompaniments=backing),
                               labels=labels, features=DETECTOR_FEATURES)
        if mix.p_leads > 0:
            part = LeadOverlay(part, labels=labels, sample_rate=DETECTOR_FEATURES.sample_rate,
                               hop_samples=DETECTOR_FEATURES.hop_length, p=mix.p_leads,
                               seed=train.seed + 2)
        parts.append(part)
        meta.update(instrumentals=list(data.instrumentals), train_instrumentals=len(backing))
    val = ClipWindows(val_examples, labels=labels, window_s=EVAL_WINDOW_S,
                      features=DETECTOR_FEATURES)
    return (parts[0] if len(parts) == 1 else Interleave(parts)), val, meta


class Interleave(torch.utils.data.Dataset):
    """Items taken in turn from several datasets (item i from dataset i mod k)."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)

    def set_epoch(self, epoch: int) -> None:
        for d in self.datasets:
            d.set_epoch(epoch)

    def __len__(self) -> int:
        return min(len(d) for d in self.datasets) * len(self.datasets)

    def __getitem__(self, index: int) -> Any:
        k = len(self.datasets)
        return self.datasets[index % k][index // k]


def detector_input() -> Callable[[dict[str, Any]], torch.Tensor]:
    """A training item -> the detectors' input features (n_mels, frames)."""
    extractor = FeatureExtractor(DETECTOR_FEATURES)
    return lambda item: extractor(item["audio"])


def _meta(labels: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {"features": DETECTOR_FEATURES.to_dict(), "labels": list(labels),
            "sample_rate": DETECTOR_FEATURES.sample_rate, **extra}

