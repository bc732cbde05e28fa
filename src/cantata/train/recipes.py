"""Recipes: from data folders to a trained speech detector or singing detector.

Each recipe builds the datasets, the model (with transfer for the singing
detector), fits the input normalisation, and runs :func:`cantata.train.fit`. MIR-1K
singers are split by singer, never by clip: ``TEST_SINGERS`` are left for the
benchmark (never trained on, never used to pick a checkpoint), ``VAL_SINGERS`` pick
the checkpoint, and the rest (or a chosen few of them) train.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from cantata.data.mixing import DynamicMixDataset, MixConfig
from cantata.data.records import read_manifest
from cantata.data.sources import load_mir1k
from cantata.data.split import split_by_group
from cantata.detect.transfer import Mode, transfer
from cantata.errors import ConfigError
from cantata.features import FeatureExtractor
from cantata.models.detector import (
    FrontConfig,
    SingingDetector,
    SingingDetectorConfig,
    SpeechDetector,
    SpeechDetectorConfig,
)
from cantata.models.registry import build, load_checkpoint
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.loop import FitResult, fit
from cantata.train.tasks.detection import (
    DETECTOR_FEATURES,
    ClipWindows,
    CropDataset,
    DetectionTask,
    MixedSongs,
)

log = logging.getLogger(__name__)

TEST_SINGERS = ("abjones", "bobon", "heycat")
VAL_SINGERS = ("davidson", "titon")
TASK_LABELS = {"binary": ("vocal",), "multilabel": ("vocal", "accompaniment", "silence")}
SEGMENT_S = 4.0
EVAL_WINDOW_S = 8.0
STATS_ITEMS = 64


def train_speech_detector(
    data_dirs: Sequence[str | Path], *, out_dir: str | Path, train: TrainConfig,
    model_config: SpeechDetectorConfig | None = None, command: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Train the source-task speech detector on speech mixes (factory manifests).

    One tenth of the mixes (whole examples) validate; the rest train on random 4 s crops.
    """
    model_config = model_config or SpeechDetectorConfig()
    examples = [ex for d in data_dirs for ex in read_manifest(d)]
    if not any(seg.label == "speech" for ex in examples for seg in ex.regions):
        raise ConfigError(f"no speech regions in {', '.join(map(str, data_dirs))}: "
                          "make speech mixes with `cantata data synth speech-mix`")
    fit_set, val_set = split_by_group(examples, validation=0.1, seed=train.seed)
    labels = model_config.labels
    train_data = CropDataset(fit_set, labels=labels, segment_s=SEGMENT_S,
                             features=DETECTOR_FEATURES, length=train.max_steps * train.batch_size,
                             seed=train.seed)
    val_data = ClipWindows(val_set, labels=labels, window_s=EVAL_WINDOW_S,
                           features=DETECTOR_FEATURES)
    model = build("speech-detector", model_config)
    fit_input_stats(model, train_data)
    meta = _meta(labels, command=command,
                 data={"speech_mixes": [str(d) for d in data_dirs],
                       "train_examples": len(fit_set), "val_examples": len(val_set)})
    return fit(model, DetectionTask(DETECTOR_FEATURES, labels), train_data, val_data, train,
               out_dir=out_dir, checkpoint_name="speech-detector", model_config=model_config,
               meta=meta, on_progress=on_progress)


def train_singing_detector(
    *, out_dir: str | Path, train: TrainConfig, task: str = "binary", causal: bool = False,
    mir1k: str | Path | None = None, songs: Sequence[str | Path] = (),
    train_singers: Sequence[str] | None = None, init: str | Path | None = None,
    layers: int | str = "all", mode: Mode = "none", command: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Train the CRNN singing detector on a small labelled song set, with transfer.

    Args:
        out_dir: run folder.
        train: optimisation settings.
        task: ``"binary"`` (vocal) or ``"multilabel"`` (vocal, accompaniment, silence).
        causal: the live variant (causal convolutions, unidirectional GRU).
        mir1k: a MIR-1K-style folder: training singers are mixed on the fly; the
            ``VAL_SINGERS`` pick the checkpoint.
        songs: folders of labelled songs (e.g. ``cantata data synth song``).
        train_singers: MIR-1K singers to train on (default: all but validation and test).
        init: a speech-detector checkpoint to transfer from.
        layers: how many bottom conv layers to move (an int or ``"all"``).
        mode: ``"fixed"``, ``"finetune"`` or ``"none"``.
        command: the command line that ran this, kept in the checkpoint for its model card.
    """
    if task not in TASK_LABELS:
        raise ConfigError(f"--task must be binary or multilabel, got {task!r}")
    if mode != "none" and init is None:
        raise ConfigError(f"transfer mode {mode!r} needs --init SPEECH_CHECKPOINT")
    labels = TASK_LABELS[task]
    source = _speech_source(init) if init is not None else None
    front = source.config.front if source is not None else FrontConfig()
    model_config = SingingDetectorConfig(front=replace(front, causal=causal), labels=labels)
    train_data, val_data, data_meta = _singing_data(mir1k, songs, train_singers, labels, train)
    model = build("singing-detector", model_config)
    moved = transfer(source, model, n_layers=layers, mode=mode) if source is not None else 0
    if moved == 0:
        fit_input_stats(model, train_data)
    meta = _meta(labels, data=data_meta, task=task, causal=causal, command=command,
                 transfer={"init": str(init) if init else None, "layers": moved, "mode": mode})
    return fit(model, DetectionTask(DETECTOR_FEATURES, labels), train_data, val_data, train,
               out_dir=out_dir, checkpoint_name="singing-detector", model_config=model_config,
               meta=meta, on_progress=on_progress)


def _speech_source(init: str | Path) -> SpeechDetector:
    model, checkpoint = load_checkpoint(init)
    if not isinstance(model, SpeechDetector):
        raise ConfigError(f"{init}: --init needs a speech-detector checkpoint, "
                          f"got {checkpoint.name!r}")
    return model


def _singing_data(mir1k: str | Path | None, songs: Sequence[str | Path],
                  train_singers: Sequence[str] | None, labels: tuple[str, ...],
                  train: TrainConfig) -> tuple[Any, Any, dict[str, Any]]:
    """(train dataset, validation dataset, description) from MIR-1K and/or labelled songs."""
    length = train.max_steps * train.batch_size
    parts, val_examples, meta = [], [], {}
    if mir1k is not None:
        clips = load_mir1k(mir1k)
        held = set(VAL_SINGERS) | set(TEST_SINGERS)
        chosen = [str(s) for s in train_singers] if train_singers else \
            sorted({ex.group for ex in clips} - held)  # str(): numpy strings do not unpickle
        if set(chosen) & held:
            raise ConfigError(f"training singers {sorted(set(chosen) & held)} are held out")
        fit_clips = [ex for ex in clips if ex.group in chosen]
        if not fit_clips:
            raise ConfigError(f"no MIR-1K clips of singers {list(chosen)} in {mir1k}")
        mix = MixConfig(segment_s=SEGMENT_S, sample_rate=DETECTOR_FEATURES.sample_rate,
                        label_hop_s=DETECTOR_FEATURES.hop_length / DETECTOR_FEATURES.sample_rate,
                        p_pitch_tempo=0.1)
        parts.append(MixedSongs(DynamicMixDataset(fit_clips, mix, length=length, seed=train.seed),
                                labels=labels, features=DETECTOR_FEATURES))
        val_examples += [ex for ex in clips if ex.group in VAL_SINGERS]
        meta.update(mir1k=str(mir1k), train_singers=list(chosen), val_singers=list(VAL_SINGERS),
                    test_singers=list(TEST_SINGERS), train_clips=len(fit_clips))
    song_examples = [ex for d in songs for ex in read_manifest(d)]
    if song_examples:
        fit_songs, val_songs = split_by_group(song_examples, validation=0.1, seed=train.seed)
        parts.append(CropDataset(fit_songs, labels=labels, segment_s=SEGMENT_S,
                                 features=DETECTOR_FEATURES, length=length, seed=train.seed))
        val_examples += val_songs if mir1k is None else []
        meta.update(songs=[str(d) for d in songs], train_songs=len(fit_songs))
    if not parts:
        raise ConfigError("no training data: give --mir1k DIR and/or --songs DIR")
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


def fit_input_stats(model: SpeechDetector | SingingDetector, data: Any) -> None:
    """Set the model's per-band normalisation from the features of a few training items."""
    extractor = FeatureExtractor(DETECTOR_FEATURES)
    with torch.no_grad():
        feats = [extractor(data[i]["audio"]) for i in range(min(STATS_ITEMS, len(data)))]
    stacked = torch.cat(feats, dim=-1)  # (n_mels, frames)
    model.front.set_input_stats(stacked.mean(dim=-1), stacked.std(dim=-1))


def _meta(labels: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {"features": DETECTOR_FEATURES.to_dict(), "labels": list(labels),
            "sample_rate": DETECTOR_FEATURES.sample_rate, **extra}
