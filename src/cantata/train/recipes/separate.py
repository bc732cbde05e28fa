"""The separator recipe: the mask U-Net on vocals mixed over accompaniment on the fly,
from scratch or grown from a trained separator (:func:`extend_separator`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import torch

from cantata.data.mixing import DynamicMixDataset, MixConfig
from cantata.data.records import read_manifest
from cantata.data.sources import load_mir1k, load_musdb, load_vocals_folder
from cantata.data.split import split_by_group
from cantata.errors import ConfigError
from cantata.features import stft
from cantata.models.masks import check_kind
from cantata.models.registry import build
from cantata.models.separator import MaskUNet, SeparatorConfig
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.lineage import lineage_of
from cantata.train.loop import FitResult
from cantata.train.recipes import (
    DEFAULT_TRAIN,
    EVAL_WINDOW_S,
    TEST_SINGERS,
    Recipe,
    SongData,
    fit_input_stats,
    init_model,
    run,
    split_singers,
    training_instrumentals,
    with_synth,
)
from cantata.train.tasks.separation import FixedMixes, SeparationTask, parse_loss

#: on-the-fly mixes for the separator: 3 s crops around 0 dB vocal-to-accompaniment
SEPARATOR_SEGMENT_S = 3.0
SEPARATOR_SNR_DB = (-6.0, 6.0)
#: architecture fields :class:`SeparatorModel` may replace
GROWABLE = ("refine_channels", "context_units", "bottleneck_blocks", "decoder_blocks",
            "phase_steps")


@dataclass(frozen=True)
class SeparatorData(SongData):
    """Vocals and accompaniment to mix (see :class:`~cantata.train.recipes.SongData`).

    MIR-1K: fixed 0 dB mixes of the ``VAL_SINGERS`` not trained on pick the checkpoint
    (validation singers may be trained on, for a final fit: the songs then validate).
    Songs: a tenth of them (by group) validate when there is no MIR-1K; MUSDB likewise
    when there are neither.

    Attributes:
        test_singers: MIR-1K singers held out for testing, never read (fewer leave more to
            train on; ``bench/separation_eval.py`` then scores only the ones left out).
        musdb: a MUSDB18-style folder; only its ``train`` tracks are used.
        vocals: folders of vocal-only recordings (a cappella stems, clean speech), added
            to the training vocals and mixed over another source's accompaniment; they
            never validate.
    """

    test_singers: tuple[str, ...] = TEST_SINGERS
    musdb: str | None = None
    vocals: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeparatorMix:
    """The on-the-fly training mixes.

    Attributes:
        channels: 1 (mono) or 2 (stereo).
        p_pitch_tempo: probability that a stem crop is shifted by up to +-2 semitones and
            +-10 % tempo (Rubber Band, formants moving with the pitch).
        p_reverb: probability that a vocal crop is played in a synthetic room (RT60
            0.3-2 s, the tail 0-15 dB under the direct sound), the wet vocals being the
            target.
        p_production: probability that an item is produced like a studio song (vocal
            chain with doubles, harmonies and sends, mastered to -14..-7 LUFS, sometimes
            an MP3: :mod:`cantata.data.production`).
    """

    channels: int = 1
    p_pitch_tempo: float = 0.1
    p_reverb: float = 0.0
    p_production: float = 0.0


@dataclass(frozen=True)
class SeparatorModel:
    """The network: an architecture, or a trained separator to grow (``init``).

    Attributes:
        architecture: the network (None: ``init``'s, else :class:`SeparatorConfig`'s); the
            fields below replace its fields when set.
        init: a separator checkpoint to start from: weights, input normalisation and
            architecture; new layers start as no-ops (see :func:`extend_separator`).
        mask: ``"irm"``, ``"psm"`` or ``"cirm"``.
        refine_channels: width of the full-resolution refinement (wider than ``init``'s
            grows it).
        context_units: units of the bottleneck's bidirectional GRU along time.
        bottleneck_blocks: residual blocks at the bottleneck.
        decoder_blocks: residual blocks after each decoder level.
        phase_steps: consistency steps for the vocals' phase, trained through.
        fold: (bins, frames) the first level folds into channels (the first stride).
    """

    architecture: SeparatorConfig | None = None
    init: str | None = None
    mask: str = "irm"
    refine_channels: int | None = None
    context_units: int | None = None
    bottleneck_blocks: int | None = None
    decoder_blocks: int | None = None
    phase_steps: int | None = None
    fold: tuple[int, int] | None = None

    def config(self, source: MaskUNet | None) -> SeparatorConfig:
        """The architecture to train, ``source`` being ``init``'s model (or None)."""
        base = self.architecture or (source.config if source is not None else SeparatorConfig())
        changes: dict[str, Any] = {k: getattr(self, k) for k in GROWABLE
                                   if getattr(self, k) is not None}
        if self.fold is not None:
            changes["strides"] = (tuple(self.fold), *base.strides[1:])
        return replace(base, mask=self.mask, **changes)


@dataclass(frozen=True)
class SeparatorRecipe(Recipe):
    """The mask U-Net separator.

    Attributes:
        data: what to mix.
        mix: how.
        model: the network.
        loss: loss terms joined by ``+`` (see :mod:`cantata.train.tasks.separation`).
        train: the loop's settings.
    """

    name: ClassVar[str] = "separator"
    capability: ClassVar[str] = "separate"
    data: SeparatorData = SeparatorData()
    mix: SeparatorMix = SeparatorMix()
    model: SeparatorModel = SeparatorModel()
    loss: str = "l1"
    train: TrainConfig = DEFAULT_TRAIN

    def __post_init__(self) -> None:
        parse_loss(self.loss)
        try:
            check_kind(self.model.mask)
        except ConfigError as err:
            raise ConfigError(f"model.{err}") from err
        if self.mix.channels not in (1, 2):
            raise ConfigError(f"mix.channels must be 1 or 2, got {self.mix.channels}")
        for key, what in (("p_pitch_tempo", "pitch/tempo"), ("p_reverb", "reverb"),
                          ("p_production", "production")):
            if not 0.0 <= getattr(self.mix, key) <= 1.0:
                raise ConfigError(f"mix.{key}: the {what} probability must be in [0, 1], got "
                                  f"{getattr(self.mix, key)}")

    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """See :meth:`Recipe.fit`."""
        init = self.model.init
        source = None if init is None else init_model(init, MaskUNet, key="model.init",
                                                      kind="separator")
        model_config = self.model.config(source)
        model = build("separator", model_config)
        if source is not None:
            extend_separator(model, source, init)
        train_data, val_data, data_meta = _separation_data(self, model_config, out_dir)
        if source is None:
            fit_input_stats(model, train_data, mixture_input(model))
        features = model_config.features
        meta = {"features": features.to_dict(), "sample_rate": features.sample_rate,
                "stems": list(model_config.stems), "mask": self.model.mask, "loss": self.loss,
                "channels": self.mix.channels, "data": data_meta, "init": init,
                "lineage": lineage_of(init)}
        return run(self, model, SeparationTask(self.loss), train_data, val_data,
                   out_dir=out_dir, model_config=model_config, meta=meta, command=command,
                   on_progress=on_progress)


def mixture_input(model: MaskUNet) -> Callable[[dict[str, torch.Tensor]], torch.Tensor]:
    """A training item -> the separator's input, its mixture's compressed magnitude
    (bins, channels * frames)."""
    f = model.config.features

    def features(item: dict[str, torch.Tensor]) -> torch.Tensor:
        spec = stft(item["mixture"], n_fft=f.n_fft, hop_length=f.hop_length, window=f.window,
                    center=f.center)
        return model.compress(spec.abs()).transpose(0, 1).flatten(1)  # (C, F, T) -> (F, C*T)

    return features


def extend_separator(model: MaskUNet, source: MaskUNet, where: str = "model.init") -> None:
    """Copy ``source``'s weights and input normalisation into ``model``, which has the
    same coarse net and may add a refinement, a time context, bottleneck or decoder
    blocks, or widen the refinement:
    new layers keep their initial values, and a wider refinement's new channels start
    disconnected from the output (their weights into the old channels and the output are
    zero), so ``model`` computes what ``source`` did until training moves it.

    Raises:
        ConfigError: the coarse nets differ, ``source`` has layers ``model`` lacks, or
            its refinement is wider (the message starts with ``where``).
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


def _vocal_sources(data: SeparatorData, train: TrainConfig, out_dir: str | os.PathLike[str],
                   ) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """(training examples with stems, validation examples, description) of MIR-1K, the
    songs and MUSDB."""
    vocals, val_examples, others, meta = [], [], [], {}
    if data.mir1k is not None:
        split = split_singers(load_mir1k(data.mir1k), train_singers=data.train_singers,
                              test_singers=data.test_singers, may_train_on_validation=True)
        vocals, val_examples = split.train, split.val
        meta.update(mir1k=data.mir1k, **split.describe())
    songs = with_synth(data.songs, data.synth, "song", out_dir)
    for kind, examples in (("songs", [ex for d in songs for ex in read_manifest(d)]),
                           ("musdb", load_musdb(data.musdb, subset="train") if data.musdb else [])):
        if not examples:
            continue
        fit_part, val_part = (examples, []) if val_examples or others else \
            split_by_group(examples, validation=0.1, seed=train.seed)
        vocals, others = vocals + fit_part, others + val_part
        meta.update({kind: songs if kind == "songs" else data.musdb,
                     f"train_{kind}": len(fit_part), f"val_{kind}": len(val_part)})
    val_examples = val_examples or others
    if not vocals or not val_examples:
        raise ConfigError("no training data: set data.mir1k, data.songs (or data.synth) "
                          "and/or data.musdb")
    return vocals, val_examples, meta


def _separation_data(recipe: SeparatorRecipe, config: SeparatorConfig,
                     out_dir: str | os.PathLike[str]) -> tuple[Any, Any, dict[str, Any]]:
    """(train mixes, validation mixes, description) for a :class:`SeparatorRecipe`."""
    data, mix, train = recipe.data, recipe.mix, recipe.train
    vocals, val_examples, meta = _vocal_sources(data, train, out_dir)
    backing = vocals + training_instrumentals(data.instrumentals) if data.instrumentals else None
    if backing is not None:
        meta.update(instrumentals=list(data.instrumentals),
                    train_instrumentals=len(backing) - len(vocals))
    if data.vocals:
        extra = [ex for d in data.vocals for ex in load_vocals_folder(d)]
        if backing is None:  # the paired examples' accompaniment: a cappella has none
            backing = list(vocals)
        vocals = vocals + extra
        meta.update(vocals=list(data.vocals), train_vocals=len(extra),
                    train_vocal_groups=len({ex.group for ex in extra}))
    rate = config.features.sample_rate
    mixes = MixConfig(segment_s=SEPARATOR_SEGMENT_S, sample_rate=rate, n_channels=mix.channels,
                      snr_db=SEPARATOR_SNR_DB, p_pitch_tempo=mix.p_pitch_tempo,
                      p_reverb=mix.p_reverb, p_production=mix.p_production,
                      label_hop_s=config.features.hop_length / rate)
    train_data = DynamicMixDataset(vocals, mixes, length=train.max_steps * train.batch_size,
                                   seed=train.seed, accompaniments=backing)
    val_data = FixedMixes(val_examples, sample_rate=rate, n_channels=mix.channels,
                          window_s=EVAL_WINDOW_S)
    meta.update(val_examples=len(val_examples), val_windows=len(val_data),
                segment_s=SEPARATOR_SEGMENT_S, snr_db=list(SEPARATOR_SNR_DB),
                p_pitch_tempo=mix.p_pitch_tempo, p_reverb=mix.p_reverb,
                p_production=mix.p_production)
    return train_data, val_data, meta
