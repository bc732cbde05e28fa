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
from cantata.data.sources import (
    load_instrumentals,
    load_mir1k,
    load_musdb,
    load_vocals_folder,
    split_benchmark,
)
from cantata.data.sources.instrumentals import SAMPLE_PACKS
from cantata.data.split import split_by_group
from cantata.detect.transfer import Mode, transfer
from cantata.embed.data import AdjacentPairs, FixedPairs, music_tracks, split_tracks, track_minutes
from cantata.errors import ConfigError
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.models.continuer import ContinuerConfig
from cantata.models.detector import (
    FrontConfig,
    SingingDetector,
    SingingDetectorConfig,
    SpeechDetector,
    SpeechDetectorConfig,
)
from cantata.models.embedder import EMBEDDER_FEATURES, EmbedderConfig
from cantata.models.registry import build, load_checkpoint
from cantata.models.separator import MaskUNet, SeparatorConfig
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.lineage import lineage_of
from cantata.train.loop import FitResult, fit
from cantata.train.tasks.continuation import ContinuationTask, EmbeddingSequences
from cantata.train.tasks.detection import (
    DETECTOR_FEATURES,
    ClipWindows,
    CropDataset,
    DetectionTask,
    MixedSongs,
)
from cantata.train.tasks.embedding import GENERATOR_LR_SCALE, EmbeddingTask
from cantata.train.tasks.separation import (
    FixedMixes,
    SeparationTask,
    fit_separator_stats,
    parse_loss,
)

log = logging.getLogger(__name__)

TEST_SINGERS = ("abjones", "bobon", "heycat")
VAL_SINGERS = ("davidson", "titon")
TASK_LABELS = {"binary": ("vocal",), "multilabel": ("vocal", "accompaniment", "silence")}
SEGMENT_S = 4.0
EVAL_WINDOW_S = 8.0
STATS_ITEMS = 64
#: on-the-fly MIR-1K mixes for the detectors: 4 s, 16 kHz mono, labels at the detector hop
DETECTOR_MIX = MixConfig(segment_s=SEGMENT_S, sample_rate=DETECTOR_FEATURES.sample_rate,
                         label_hop_s=DETECTOR_FEATURES.hop_length / DETECTOR_FEATURES.sample_rate,
                         p_pitch_tempo=0.1)


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
    instrumentals: Sequence[str | Path] = (),
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
        instrumentals: folders of vocal-free music (``"debian"``: the installed Debian
            soundtracks), heard as whole instrumental crops half the time and under
            training vocals the other half (a third of all items), so that lead
            instruments are not taken for voice. The detection benchmark's test tracks
            (:func:`~cantata.data.sources.split_benchmark`) are always left out.
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
    train_data, val_data, data_meta = _singing_data(mir1k, songs, instrumentals, train_singers,
                                                    labels, train)
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
                  instrumentals: Sequence[str | Path], train_singers: Sequence[str] | None,
                  labels: tuple[str, ...], train: TrainConfig) -> tuple[Any, Any, dict[str, Any]]:
    """(train dataset, validation dataset, description) from MIR-1K and/or labelled songs,
    with vocal-free instrumentals."""
    length = train.max_steps * train.batch_size
    parts, val_examples, meta, vocal_pool = [], [], {}, []
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
        parts.append(MixedSongs(DynamicMixDataset(fit_clips, DETECTOR_MIX, length=length,
                                                  seed=train.seed),
                                labels=labels, features=DETECTOR_FEATURES))
        vocal_pool = fit_clips
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
        vocal_pool = vocal_pool or fit_songs
    if not parts:
        raise ConfigError("no training data: give --mir1k DIR and/or --songs DIR")
    if instrumentals:
        backing = training_instrumentals(instrumentals)
        mix = replace(DETECTOR_MIX, p_vocal_only=0.0, p_accompaniment_only=0.5)
        parts.append(MixedSongs(DynamicMixDataset(vocal_pool, mix, length=length,
                                                  seed=train.seed + 1, accompaniments=backing),
                                labels=labels, features=DETECTOR_FEATURES))
        meta.update(instrumentals=[str(d) for d in instrumentals],
                    train_instrumentals=len(backing))
    val = ClipWindows(val_examples, labels=labels, window_s=EVAL_WINDOW_S,
                      features=DETECTOR_FEATURES)
    return (parts[0] if len(parts) == 1 else Interleave(parts)), val, meta


def training_instrumentals(roots: Sequence[str | Path]) -> list[Any]:
    """Vocal-free examples from folders (``"debian"``: the installed Debian game soundtracks,
    whole tracks, not the sample packs), without the detection benchmark's test tracks."""
    debian = [r for r in roots if str(r) == "debian"]
    folders = [r for r in roots if str(r) != "debian"]
    try:  # read once: it probes (and warns about) every file
        installed = load_instrumentals()
    except ConfigError:  # no Debian soundtracks: nothing of the benchmark to hold out
        if debian:
            raise
        installed = []
    examples = ([ex for ex in installed if ex.group not in SAMPLE_PACKS]
                if debian else []) + (load_instrumentals(folders) if folders else [])
    held = {Path(ex.audio).resolve() for ex in split_benchmark(installed)[1]}
    kept = [ex for ex in examples if Path(ex.audio).resolve() not in held]
    if not kept:
        raise ConfigError(f"no instrumentals left in {', '.join(map(str, roots))} once the "
                          "benchmark's test tracks are held out")
    return kept


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


#: on-the-fly mixes for the separator: 3 s crops around 0 dB vocal-to-accompaniment
SEPARATOR_SEGMENT_S = 3.0
SEPARATOR_SNR_DB = (-6.0, 6.0)
#: probability that a stem crop is pitch- and tempo-shifted (see MixConfig)
SEPARATOR_P_PITCH_TEMPO = 0.1


def train_separator(
    *, out_dir: str | Path, train: TrainConfig, mir1k: str | Path | None = None,
    songs: Sequence[str | Path] = (), instrumentals: Sequence[str | Path] = (),
    musdb: str | Path | None = None, vocals: Sequence[str | Path] = (), mask: str = "irm",
    loss: str = "l1", n_channels: int = 1, train_singers: Sequence[str] | None = None,
    test_singers: Sequence[str] = TEST_SINGERS, p_pitch_tempo: float | None = None,
    p_reverb: float = 0.0, model_config: SeparatorConfig | None = None,
    init: str | Path | None = None, refine_channels: int | None = None,
    context_units: int | None = None, bottleneck_blocks: int | None = None,
    decoder_blocks: int | None = None, phase_steps: int | None = None,
    first_fold: tuple[int, int] | None = None, command: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Train the mask U-Net separator on vocals mixed over accompaniment on the fly.

    Args:
        out_dir: run folder.
        train: optimisation settings.
        mir1k: a MIR-1K-style folder: training singers are mixed on the fly; fixed 0 dB
            mixes of the ``VAL_SINGERS`` not trained on pick the checkpoint (the songs
            validate when all of them are); ``test_singers`` are never read.
        songs: folders of songs with vocals and accompaniment stems (``cantata data synth
            song``); a tenth of them (by group) validate when there is no ``mir1k``.
        instrumentals: folders of vocal-free music for the accompaniment pool
            (``"debian"``: the installed Debian soundtracks; see
            :func:`training_instrumentals`).
        musdb: a MUSDB18-style folder; only its ``train`` tracks are used (a tenth of
            them, by artist, validate when there is neither ``mir1k`` nor ``songs``).
        vocals: folders of vocal-only recordings (a cappella stems, clean speech; see
            :func:`~cantata.data.sources.load_vocals_folder`), added to the training
            vocals and always mixed over the accompaniment of another source; they
            never validate.
        p_pitch_tempo: probability that a training stem crop is shifted by up to +-2
            semitones and +-10 % tempo (Rubber Band, formants moving with the pitch;
            default :data:`SEPARATOR_P_PITCH_TEMPO`).
        p_reverb: probability that a training vocal crop is played in a synthetic room
            (RT60 0.3-2 s, the tail 0-15 dB under the direct sound; see
            :class:`~cantata.data.mixing.MixConfig`), the wet vocals being the target.
        mask: ``"irm"``, ``"psm"`` or ``"cirm"``.
        loss: loss terms joined by ``+`` (see :mod:`cantata.train.tasks.separation`).
        n_channels: 1 (mono) or 2 (stereo) training mixes.
        train_singers: MIR-1K singers to train on (default: all but validation and test;
            validation singers may be named, for a final fit, test singers may not).
        test_singers: MIR-1K singers held out for testing, recorded in the checkpoint
            (default ``TEST_SINGERS``; fewer leave more singers to train on, and
            ``bench/separation_eval.py`` then scores only the ones left out).
        model_config: the architecture (its ``mask`` is replaced by ``mask``; default: the
            ``init`` checkpoint's, else :class:`SeparatorConfig`'s).
        init: a separator checkpoint to start from: its weights, input normalisation and
            architecture; the new model may add or widen a refinement
            (``refine_channels``), add a time context (``context_units``) or bottleneck
            blocks (``bottleneck_blocks``) or decoder blocks (``decoder_blocks``), which
            start as no-ops (see :func:`extend_separator`).
        refine_channels: width of the full-resolution refinement (replaces the
            architecture's).
        context_units: units of the bottleneck's time context (replaces the architecture's).
        bottleneck_blocks: residual blocks at the bottleneck (replaces the architecture's).
        decoder_blocks: residual blocks after each decoder level (replaces the
            architecture's).
        phase_steps: consistency steps for the vocals' phase, trained through
            (:mod:`cantata.separate.phase`; replaces the architecture's).
        first_fold: (bins, frames) the first level folds into channels (replaces the
            architecture's first stride; an ``init`` checkpoint must have the same).
        command: the command line that ran this, kept in the checkpoint for its model card.
    """
    parse_loss(loss)
    p_pitch_tempo = SEPARATOR_P_PITCH_TEMPO if p_pitch_tempo is None else p_pitch_tempo
    if not 0.0 <= p_pitch_tempo <= 1.0:
        raise ConfigError(f"the pitch/tempo probability must be in [0, 1], got {p_pitch_tempo}")
    if not 0.0 <= p_reverb <= 1.0:
        raise ConfigError(f"the reverb probability must be in [0, 1], got {p_reverb}")
    source = _separator_source(init) if init is not None else None
    model_config = replace(model_config or (source.config if source else SeparatorConfig()),
                           mask=mask)
    if refine_channels is not None:
        model_config = replace(model_config, refine_channels=refine_channels)
    if context_units is not None:
        model_config = replace(model_config, context_units=context_units)
    if bottleneck_blocks is not None:
        model_config = replace(model_config, bottleneck_blocks=bottleneck_blocks)
    if decoder_blocks is not None:
        model_config = replace(model_config, decoder_blocks=decoder_blocks)
    if phase_steps is not None:
        model_config = replace(model_config, phase_steps=phase_steps)
    if first_fold is not None:
        model_config = replace(model_config,
                               strides=(tuple(first_fold), *model_config.strides[1:]))
    model = build("separator", model_config)
    if source is not None:
        extend_separator(model, source, init)
    train_data, val_data, data_meta = _separation_data(
        mir1k, songs, instrumentals, musdb, vocals, train_singers, test_singers, model_config,
        n_channels, train, p_pitch_tempo, p_reverb)
    if source is None:
        fit_separator_stats(model, train_data, n_items=STATS_ITEMS)
    features = model_config.features
    meta = {"features": features.to_dict(), "sample_rate": features.sample_rate,
            "stems": list(model_config.stems), "mask": mask, "loss": loss,
            "channels": n_channels, "data": data_meta, "command": command,
            "init": str(init) if init else None, "lineage": lineage_of(init)}
    return fit(model, SeparationTask(loss), train_data, val_data, train, out_dir=out_dir,
               checkpoint_name="separator", model_config=model_config, meta=meta,
               on_progress=on_progress)


def _separator_source(init: str | Path) -> MaskUNet:
    model, checkpoint = load_checkpoint(init)
    if not isinstance(model, MaskUNet):
        raise ConfigError(f"{init}: --init needs a separator checkpoint, got {checkpoint.name!r}")
    return model


def extend_separator(model: MaskUNet, source: MaskUNet, where: str | Path = "--init") -> None:
    """Copy ``source``'s weights and input normalisation into ``model``, which has the
    same coarse net and may add a refinement, a time context, bottleneck or decoder
    blocks, or widen the refinement:
    new layers keep their initial values, and a wider refinement's new channels start
    disconnected from the output (their weights into the old channels and the output are
    zero), so ``model`` computes what ``source`` did until training moves it.

    Raises:
        ConfigError: the coarse nets differ, ``source`` has layers ``model`` lacks, or
            its refinement is wider.
    """
    shared = ("features", "stems", "mask", "mask_limit", "channels", "strides",
              "level_convs", "log_eps")
    differ = [k for k in shared if getattr(model.config, k) != getattr(source.config, k)]
    if differ:
        raise ConfigError(f"{where}: the separator differs from the one to train in "
                          f"{', '.join(differ)}")
    state, new = model.state_dict(), set(model.state_dict())
    unexpected = []
    for key, value in source.state_dict().items():
        if key not in state:
            unexpected.append(key)
            continue
        new.discard(key)
        target = state[key]
        if target.shape != value.shape:
            if not key.startswith("refine.") or target.ndim != value.ndim or any(
                    t < v for t, v in zip(target.shape, value.shape, strict=True)):
                raise ConfigError(f"{where}: weights do not fit the separator to train ({key}: "
                                  f"{tuple(value.shape)} into {tuple(target.shape)})")
            value = _widened(target, value)
        state[key] = value
    new = [k for k in new if not k.startswith(("refine.", "guide.", "context.", "bottleneck.",
                                               "up_blocks."))]
    if unexpected or new:
        raise ConfigError(f"{where}: weights do not fit the separator to train "
                          f"(unexpected {unexpected}, missing {new})")
    model.load_state_dict(state)


def _widened(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """``value`` in the leading slice of (a copy of) ``target``; a conv weight's new input
    channels get zero weights into its old output channels."""
    out = target.clone()
    out[tuple(slice(0, n) for n in value.shape)] = value
    if out.ndim == 4:  # (out_ch, in_ch, kh, kw)
        out[: value.shape[0], value.shape[1]:] = 0
    return out


def _separation_data(
    mir1k: str | Path | None, songs: Sequence[str | Path], instrumentals: Sequence[str | Path],
    musdb: str | Path | None, a_cappella: Sequence[str | Path],
    train_singers: Sequence[str] | None, test_singers: Sequence[str],
    config: SeparatorConfig, n_channels: int, train: TrainConfig, p_pitch_tempo: float,
    p_reverb: float,
) -> tuple[Any, Any, dict[str, Any]]:
    """(train mixes, validation mixes, description) for :func:`train_separator`."""
    vocals, val_examples, others, meta = [], [], [], {}
    if mir1k is not None:
        clips = load_mir1k(mir1k)
        chosen = [str(s) for s in train_singers] if train_singers else \
            sorted({ex.group for ex in clips} - set(VAL_SINGERS) - set(test_singers))
        if set(chosen) & set(test_singers):
            raise ConfigError(f"training singers {sorted(set(chosen) & set(test_singers))} "
                              "are held out for testing")
        vocals = [ex for ex in clips if ex.group in chosen]
        if not vocals:
            raise ConfigError(f"no MIR-1K clips of singers {list(chosen)} in {mir1k}")
        val_singers = [s for s in VAL_SINGERS if s not in chosen]  # a final fit may take them
        val_examples = [ex for ex in clips if ex.group in val_singers]
        meta.update(mir1k=str(mir1k), train_singers=list(chosen), val_singers=val_singers,
                    test_singers=list(test_singers), train_clips=len(vocals))
    for kind, examples in (("songs", [ex for d in songs for ex in read_manifest(d)]),
                           ("musdb", load_musdb(musdb, subset="train") if musdb else [])):
        if not examples:
            continue
        fit_part, val_part = (examples, []) if val_examples or others else \
            split_by_group(examples, validation=0.1, seed=train.seed)
        vocals, others = vocals + fit_part, others + val_part
        meta.update({kind: [str(d) for d in songs] if kind == "songs" else str(musdb),
                     f"train_{kind}": len(fit_part), f"val_{kind}": len(val_part)})
    val_examples = val_examples or others
    if not vocals or not val_examples:
        raise ConfigError("no training data: give --mir1k DIR, --songs DIR and/or --musdb DIR")
    backing = vocals + training_instrumentals(instrumentals) if instrumentals else None
    if backing is not None:
        meta.update(instrumentals=[str(d) for d in instrumentals],
                    train_instrumentals=len(backing) - len(vocals))
    if a_cappella:
        extra = [ex for d in a_cappella for ex in load_vocals_folder(d)]
        if backing is None:  # the paired examples' accompaniment: a cappella has none
            backing = list(vocals)
        vocals = vocals + extra
        meta.update(vocals=[str(d) for d in a_cappella], train_vocals=len(extra),
                    train_vocal_groups=len({ex.group for ex in extra}))
    rate = config.features.sample_rate
    mix = MixConfig(segment_s=SEPARATOR_SEGMENT_S, sample_rate=rate, n_channels=n_channels,
                    snr_db=SEPARATOR_SNR_DB, p_pitch_tempo=p_pitch_tempo, p_reverb=p_reverb,
                    label_hop_s=config.features.hop_length / rate)
    train_data = DynamicMixDataset(vocals, mix, length=train.max_steps * train.batch_size,
                                   seed=train.seed, accompaniments=backing)
    val_data = FixedMixes(val_examples, sample_rate=rate, n_channels=n_channels,
                          window_s=EVAL_WINDOW_S)
    meta.update(val_examples=len(val_examples), val_windows=len(val_data),
                segment_s=SEPARATOR_SEGMENT_S, snr_db=list(SEPARATOR_SNR_DB),
                p_pitch_tempo=p_pitch_tempo, p_reverb=p_reverb)
    return train_data, val_data, meta


#: embedder training: the positive starts 0 to 1 s after the anchor ends; a fifth of the
#: tracks (whole MIR-1K singers) validate, always the same ones (split seed 0); each
#: segment's level moves by up to +-6 dB; at most 1024 validation pairs
EMBED_MAX_GAP_S = 1.0
EMBED_HELD_OUT = 0.2
EMBED_SPLIT_SEED = 0
EMBED_GAIN_DB = 6.0
EMBED_VAL_PAIRS = 1024
#: input representations `cantata train embedder --feature` offers (16 kHz, 20 ms hop)
EMBEDDER_FEATURE_KINDS = {
    "logmel": EMBEDDER_FEATURES,
    "mfcc": replace(EMBEDDER_FEATURES, kind="mfcc", n_mfcc=20),
    "chroma": replace(EMBEDDER_FEATURES, kind="chroma", n_fft=2048),
}


def embedder_features(kind: str) -> FeatureConfig:
    """The embedder's FeatureConfig for an input kind of :data:`EMBEDDER_FEATURE_KINDS`."""
    if kind not in EMBEDDER_FEATURE_KINDS:
        raise ConfigError(f"feature must be one of {list(EMBEDDER_FEATURE_KINDS)}, got {kind!r}")
    return EMBEDDER_FEATURE_KINDS[kind]


def train_embedder(
    *, out_dir: str | Path, train: TrainConfig, mir1k: str | Path | None = None,
    instrumentals: Sequence[str | Path] = (), songs: Sequence[str | Path] = (),
    cache: str | Path | None = None, model_config: EmbedderConfig | None = None,
    system: str | None = None, prior: bool | None = None, feature: str | None = None,
    dim: int | None = None, segment_s: float | None = None, similarity: str = "euclidean",
    temperature: float | None = None, gan_lr_scale: float = 5.0,
    generator_lr_scale: float = GENERATOR_LR_SCALE, degrade: float = 0.0,
    command: str | None = None, on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Train a music embedder, self-supervised on adjacent segments (BRIEF §4).

    Args:
        out_dir: run folder.
        train: optimisation settings (``batch_size`` pairs per step).
        mir1k: a MIR-1K folder: one track per song (0 dB mixes of its clips in order).
        instrumentals: vocal-free music folders, or ``"debian"`` (the installed Debian
            game soundtracks; whole tracks of 12 s or more).
        songs: ``cantata data synth song`` folders (their mixtures).
        cache: folder caching every track's features (shared by runs of one feature
            config).
        model_config: the architecture (default :class:`EmbedderConfig`), which the
            following arguments override when given:
        system: ``"dssm"`` or ``"adjacency"``.
        prior: whether the adversarial N(0, I) prior trains.
        feature: the input representation, a kind of :data:`EMBEDDER_FEATURE_KINDS`.
        dim: the embedding size.
        segment_s: seconds per embedding.
        similarity: the DSSM similarity and the validation ranking (``"euclidean"`` or
            ``"cosine"``).
        temperature: the DSSM temperature (default by similarity).
        gan_lr_scale: learning-rate multiplier of the prior discriminator.
        generator_lr_scale: learning-rate multiplier of the embedder's GAN updates.
        degrade: probability that a training anchor is degraded as if re-recorded by a
            phone (:func:`~cantata.embed.augment.degrade_logmel`; log-mel features only).
        command: the command line that ran this, kept in the checkpoint for its model card.

    A fifth of the tracks (MIR-1K by singer, see :func:`~cantata.embed.data.split_tracks`,
    always with seed 0) pick the checkpoint by adjacent-segment retrieval MRR.
    """
    overrides = {"system": system, "prior": prior, "dim": dim, "segment_s": segment_s,
                 "features": None if feature is None else embedder_features(feature)}
    model_config = replace(model_config or EmbedderConfig(),
                           **{k: v for k, v in overrides.items() if v is not None})
    features = model_config.features
    task = EmbeddingTask(prior=model_config.prior, similarity=similarity,
                         temperature=temperature, gan_lr_scale=gan_lr_scale,
                         generator_lr_scale=generator_lr_scale)
    tracks = music_tracks(mir1k=mir1k, instrumentals=list(instrumentals),
                          songs=list(songs), features=features, cache=cache)
    fit_tracks, val_tracks = split_tracks(tracks, held_out=EMBED_HELD_OUT,
                                          seed=EMBED_SPLIT_SEED)
    if not val_tracks:
        raise ConfigError("no track is left to validate on: give more music")
    rate = features.frame_rate_hz
    segment, gap = round(model_config.segment_s * rate), round(EMBED_MAX_GAP_S * rate)
    train_data = AdjacentPairs(fit_tracks, segment_frames=segment, max_gap_frames=gap,
                               length=train.max_steps * train.batch_size, seed=train.seed,
                               gain_db=EMBED_GAIN_DB, degrade=degrade, features=features)
    val_data = FixedPairs(val_tracks, segment_frames=segment, max_gap_frames=gap,
                          max_pairs=EMBED_VAL_PAIRS, seed=EMBED_SPLIT_SEED)
    model = build("embedder", model_config)

    def summary(part: list[Any]) -> dict[str, Any]:
        groups: dict[str, int] = {}
        for t in part:
            groups[t.group] = groups.get(t.group, 0) + 1
        return {"tracks": len(part), "minutes": round(track_minutes(part, features), 1),
                "groups": groups, "singers": sorted({t.singer for t in part if t.singer})}

    data = {"mir1k": None if mir1k is None else str(mir1k),
            "instrumentals": [str(d) for d in instrumentals], "songs": [str(d) for d in songs],
            "train": summary(fit_tracks), "val": summary(val_tracks),
            "held_out": EMBED_HELD_OUT, "split_seed": EMBED_SPLIT_SEED,
            "val_pairs": len(val_data), "max_gap_s": EMBED_MAX_GAP_S, "gain_db": EMBED_GAIN_DB,
            "degrade": degrade}
    meta = {"features": features.to_dict(), "sample_rate": features.sample_rate,
            "segment_s": model_config.segment_s, "system": model_config.system,
            "prior": model_config.prior, "similarity": similarity,
            "temperature": task.temperature, "gan_lr_scale": gan_lr_scale,
            "generator_lr_scale": generator_lr_scale, "gan_frozen_norm": task.gan_frozen_norm,
            "data": data,
            "command": command}
    log.info("embedder: %d training tracks, %d validation pairs", len(fit_tracks), len(val_data))
    return fit(model, task, train_data, val_data, train, out_dir=out_dir,
               checkpoint_name="embedder", model_config=model_config, meta=meta,
               on_progress=on_progress)


#: consecutive embeddings per continuer training item (predictions per item)
CONTINUER_STEPS = 8


def train_continuer(
    *, out_dir: str | Path, train: TrainConfig, embedder: str | Path,
    mir1k: str | Path | None = None, instrumentals: Sequence[str | Path] = (),
    songs: Sequence[str | Path] = (), cache: str | Path | None = None,
    model_config: ContinuerConfig | None = None, command: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Train the continuer on the embedding sequences of the embedder's training music.

    Every track is cut into back-to-back segments and embedded with ``embedder``; the
    continuer learns to predict each next embedding. The embedder's held-out tracks
    (the same :func:`~cantata.embed.data.split_tracks`) pick the checkpoint.

    Args:
        out_dir: run folder.
        train: optimisation settings (``batch_size`` sequences per step).
        embedder: the embedder (shipped name or checkpoint) whose vectors it predicts.
        mir1k, instrumentals, songs, cache: the music, as for :func:`train_embedder`.
        model_config: the architecture (its ``dim`` is set to the embedder's).
        command: the command line that ran this, kept in the checkpoint for its model card.
    """
    from cantata.embed.api import Embedder

    encoder = Embedder.from_pretrained(embedder)
    model_config = replace(model_config or ContinuerConfig(), dim=encoder.dim)
    tracks = music_tracks(mir1k=mir1k, instrumentals=list(instrumentals), songs=list(songs),
                          features=encoder.config.features, cache=cache)
    fit_tracks, val_tracks = split_tracks(tracks, held_out=EMBED_HELD_OUT,
                                          seed=EMBED_SPLIT_SEED)
    segment = round(encoder.segment_s * encoder.frames_per_s)

    def sequences(part: list[Any]) -> list[Any]:
        out = []
        for track in part:
            starts = range(0, track.n_frames - segment + 1, segment)
            windows = [torch.from_numpy(track.features[:, s:s + segment].astype("float32"))
                       for s in starts]
            if len(windows) > CONTINUER_STEPS:
                out.append(encoder.embed_features(windows))
        return out

    train_seqs, val_seqs = sequences(fit_tracks), sequences(val_tracks)
    if not val_seqs:
        raise ConfigError("no held-out track is long enough to validate the continuer on")
    train_data = EmbeddingSequences(train_seqs, steps=CONTINUER_STEPS,
                                    n_items=train.max_steps * train.batch_size, seed=train.seed)
    val_data = EmbeddingSequences(val_seqs, steps=CONTINUER_STEPS, n_items=512,
                                  seed=EMBED_SPLIT_SEED, fixed=True)
    meta = {"embedder": encoder.model_version, "segment_s": encoder.segment_s,
            "steps": CONTINUER_STEPS, "command": command,
            "data": {"train_tracks": len(train_seqs), "val_tracks": len(val_seqs),
                     "train_segments": int(sum(len(s) for s in train_seqs))}}
    model = build("continuer", model_config)
    return fit(model, ContinuationTask(), train_data, val_data, train, out_dir=out_dir,
               checkpoint_name="continuer", model_config=model_config, meta=meta,
               on_progress=on_progress)
