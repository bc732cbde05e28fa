"""Embedding recipes: the music embedder, self-supervised on adjacent segments (BRIEF §4),
and the continuer, which predicts the embedder's next segment embedding.

A fifth of the tracks (MIR-1K by singer, see :func:`~cantata.embed.data.split_tracks`,
always with seed 0) pick the checkpoint, for both.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import torch

from cantata.embed.data import AdjacentPairs, FixedPairs, music_tracks, split_tracks, track_minutes
from cantata.errors import ConfigError
from cantata.features import FeatureConfig
from cantata.models.continuer import ContinuerConfig
from cantata.models.embedder import EMBEDDER_FEATURES, EmbedderConfig
from cantata.models.registry import build
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.loop import FitResult
from cantata.train.recipes import DEFAULT_TRAIN, Recipe, Synth, run, with_synth
from cantata.train.tasks.continuation import ContinuationTask, EmbeddingSequences
from cantata.train.tasks.embedding import GENERATOR_LR_SCALE, EmbeddingTask

log = logging.getLogger(__name__)

#: embedder training: the positive starts 0 to 1 s after the anchor ends; a fifth of the
#: tracks (whole MIR-1K singers) validate, always the same ones (split seed 0); each
#: segment's level moves by up to +-6 dB; at most 1024 validation pairs
EMBED_MAX_GAP_S = 1.0
EMBED_HELD_OUT = 0.2
EMBED_SPLIT_SEED = 0
EMBED_GAIN_DB = 6.0
EMBED_VAL_PAIRS = 1024
#: continuer validation: this many fixed sequences
CONTINUER_VAL_ITEMS = 512
#: input representations of the embedder by name (16 kHz, 20 ms hop)
EMBEDDER_FEATURE_KINDS = {
    "logmel": EMBEDDER_FEATURES,
    "mfcc": replace(EMBEDDER_FEATURES, kind="mfcc", n_mfcc=20),
    "chroma": replace(EMBEDDER_FEATURES, kind="chroma", n_fft=2048),
}
#: the loop's settings of both recipes: 32 items per step, no early stopping
EMBED_TRAIN = replace(DEFAULT_TRAIN, batch_size=32, patience=0)


def embedder_features(kind: str) -> FeatureConfig:
    """The embedder's FeatureConfig for an input kind of :data:`EMBEDDER_FEATURE_KINDS`."""
    if kind not in EMBEDDER_FEATURE_KINDS:
        raise ConfigError(f"feature must be one of {list(EMBEDDER_FEATURE_KINDS)}, got {kind!r}")
    return EMBEDDER_FEATURE_KINDS[kind]


@dataclass(frozen=True)
class MusicData:
    """The music to learn from, as whole tracks.

    Attributes:
        mir1k: a MIR-1K folder: one track per song (0 dB mixes of its clips in order).
        instrumentals: vocal-free music folders, or ``"debian"`` (the installed Debian game
            soundtracks; whole tracks of 12 s or more).
        songs: ``cantata data synth song`` folders (their mixtures).
        cache: folder caching every track's features (shared by runs of one feature
            config).
        synth: synthetic songs made for the run, added to ``songs``.
    """

    mir1k: str | None = None
    instrumentals: tuple[str, ...] = ()
    songs: tuple[str, ...] = ()
    cache: str | None = None
    synth: Synth | None = None

    def require(self) -> None:
        """Raises ConfigError if no music is given."""
        if not (self.mir1k or self.instrumentals or self.songs or self.synth):
            raise ConfigError("no music: set data.mir1k, data.instrumentals and/or data.songs "
                              "(or data.synth)")

    def tracks(self, features: FeatureConfig, out_dir: str | os.PathLike[str]) -> list[Any]:
        """The tracks as ``features`` (synthetic songs made now).

        Raises:
            ConfigError: no music, or a folder without usable music.
        """
        self.require()
        return music_tracks(mir1k=self.mir1k, instrumentals=list(self.instrumentals),
                            songs=with_synth(self.songs, self.synth, "song", out_dir),
                            features=features, cache=self.cache)


@dataclass(frozen=True)
class EmbeddingObjective:
    """What the embedder is trained to do (see :class:`EmbeddingTask`).

    Attributes:
        similarity: the DSSM similarity and the validation ranking.
        temperature: the DSSM temperature (None: 2 for euclidean, 0.1 for cosine).
        gan_lr_scale: learning-rate multiplier of the prior discriminator.
        generator_lr_scale: learning-rate multiplier of the embedder's GAN updates.
    """

    similarity: Literal["euclidean", "cosine"] = "euclidean"
    temperature: float | None = None
    gan_lr_scale: float = 5.0
    generator_lr_scale: float = GENERATOR_LR_SCALE


@dataclass(frozen=True)
class EmbedderAugment:
    """Attributes:
    degrade: probability that a training anchor is degraded as if re-recorded by a phone
        in a room (:func:`~cantata.embed.augment.degrade_logmel`; log-mel features only).
    """

    degrade: float = 0.0


@dataclass(frozen=True)
class EmbedderRecipe(Recipe):
    """A music embedder: adversarial DSSM or adjacency, with or without the N(0, I) prior.

    Attributes:
        data: the music.
        model: the embedding system.
        objective: the training objective.
        augment: the anchors' degradation.
        train: the loop's settings (``batch_size`` pairs per step).
    """

    name: ClassVar[str] = "embedder"
    capability: ClassVar[str] = "embed"
    data: MusicData = MusicData()
    model: EmbedderConfig = EmbedderConfig(system="dssm")
    objective: EmbeddingObjective = EmbeddingObjective()
    augment: EmbedderAugment = EmbedderAugment()
    train: TrainConfig = EMBED_TRAIN

    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """See :meth:`Recipe.fit`."""
        features, o, train = self.model.features, self.objective, self.train
        task = EmbeddingTask(prior=self.model.prior, similarity=o.similarity,
                             temperature=o.temperature, gan_lr_scale=o.gan_lr_scale,
                             generator_lr_scale=o.generator_lr_scale)
        fit_tracks, val_tracks = _split(self.data.tracks(features, out_dir))
        rate = features.frame_rate_hz
        segment, gap = round(self.model.segment_s * rate), round(EMBED_MAX_GAP_S * rate)
        train_data = AdjacentPairs(fit_tracks, segment_frames=segment, max_gap_frames=gap,
                                   length=train.max_steps * train.batch_size, seed=train.seed,
                                   gain_db=EMBED_GAIN_DB, degrade=self.augment.degrade,
                                   features=features)
        val_data = FixedPairs(val_tracks, segment_frames=segment, max_gap_frames=gap,
                              max_pairs=EMBED_VAL_PAIRS, seed=EMBED_SPLIT_SEED)
        model = build("embedder", self.model)
        data = {"mir1k": self.data.mir1k, "instrumentals": list(self.data.instrumentals),
                "songs": list(self.data.songs), "train": _summary(fit_tracks, features),
                "val": _summary(val_tracks, features), "held_out": EMBED_HELD_OUT,
                "split_seed": EMBED_SPLIT_SEED, "val_pairs": len(val_data),
                "max_gap_s": EMBED_MAX_GAP_S, "gain_db": EMBED_GAIN_DB,
                "degrade": self.augment.degrade}
        meta = {"features": features.to_dict(), "sample_rate": features.sample_rate,
                "segment_s": self.model.segment_s, "system": self.model.system,
                "prior": self.model.prior, "similarity": o.similarity,
                "temperature": task.temperature, "gan_lr_scale": o.gan_lr_scale,
                "generator_lr_scale": o.generator_lr_scale,
                "gan_frozen_norm": task.gan_frozen_norm, "data": data}
        log.info("embedder: %d training tracks, %d validation pairs", len(fit_tracks),
                 len(val_data))
        return run(self, model, task, train_data, val_data, out_dir=out_dir,
                   model_config=self.model, meta=meta, command=command, on_progress=on_progress)


def _split(tracks: list[Any]) -> tuple[list[Any], list[Any]]:
    fit_tracks, val_tracks = split_tracks(tracks, held_out=EMBED_HELD_OUT, seed=EMBED_SPLIT_SEED)
    if not val_tracks:
        raise ConfigError("no track is left to validate on: give more music")
    return fit_tracks, val_tracks


def _summary(part: list[Any], features: FeatureConfig) -> dict[str, Any]:
    groups: dict[str, int] = {}
    for t in part:
        groups[t.group] = groups.get(t.group, 0) + 1
    return {"tracks": len(part), "minutes": round(track_minutes(part, features), 1),
            "groups": groups, "singers": sorted({t.singer for t in part if t.singer})}


@dataclass(frozen=True)
class ContinuerModel:
    """The continuer's GRU (its size is the embedder's embedding size).

    Attributes:
        hidden: GRU width.
        layers: GRU layers.
        dropout: between GRU layers.
    """

    hidden: int = 128
    layers: int = 2
    dropout: float = 0.1


@dataclass(frozen=True)
class ContinuerRecipe(Recipe):
    """The continuer, on the embedding sequences of the embedder's training music.

    Every track is cut into back-to-back segments and embedded with ``embedder``; the
    continuer learns to predict each next embedding. The embedder's held-out tracks pick
    the checkpoint.

    Attributes:
        embedder: the embedder (shipped name or checkpoint) whose vectors it predicts.
        data: the music (as the embedder's).
        model: the network.
        sequence_steps: consecutive embeddings per training item (predictions per item);
            tracks need more segments than this.
        train: the loop's settings (``batch_size`` sequences per step).
    """

    name: ClassVar[str] = "continuer"
    capability: ClassVar[str] = "continue"
    embedder: str = "embedder"
    data: MusicData = MusicData()
    model: ContinuerModel = ContinuerModel()
    sequence_steps: int = 8
    train: TrainConfig = EMBED_TRAIN

    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """See :meth:`Recipe.fit`."""
        from cantata.embed.api import Embedder

        self.data.require()
        encoder = Embedder.from_pretrained(self.embedder)
        model_config = ContinuerConfig(dim=encoder.dim, hidden=self.model.hidden,
                                       layers=self.model.layers, dropout=self.model.dropout)
        fit_tracks, val_tracks = _split(self.data.tracks(encoder.config.features, out_dir))
        train_seqs = _sequences(encoder, fit_tracks, self.sequence_steps)
        val_seqs = _sequences(encoder, val_tracks, self.sequence_steps)
        if not val_seqs:
            raise ConfigError("no held-out track is long enough to validate the continuer on")
        train, steps = self.train, self.sequence_steps
        train_data = EmbeddingSequences(train_seqs, steps=steps,
                                        n_items=train.max_steps * train.batch_size,
                                        seed=train.seed)
        val_data = EmbeddingSequences(val_seqs, steps=steps, n_items=CONTINUER_VAL_ITEMS,
                                      seed=EMBED_SPLIT_SEED, fixed=True)
        meta = {"embedder": encoder.model_version, "segment_s": encoder.segment_s,
                "steps": steps,
                "data": {"train_tracks": len(train_seqs), "val_tracks": len(val_seqs),
                         "train_segments": int(sum(len(s) for s in train_seqs))}}
        model = build("continuer", model_config)
        return run(self, model, ContinuationTask(), train_data, val_data, out_dir=out_dir,
                   model_config=model_config, meta=meta, command=command,
                   on_progress=on_progress)


def _sequences(encoder: Any, tracks: list[Any], steps: int) -> list[torch.Tensor]:
    """Each track's back-to-back segment embeddings, for tracks of more than ``steps``."""
    segment = round(encoder.segment_s * encoder.frames_per_s)
    out = []
    for track in tracks:
        starts = range(0, track.n_frames - segment + 1, segment)
        windows = [torch.from_numpy(track.features[:, s:s + segment].astype("float32"))
                   for s in starts]
        if len(windows) > steps:
            out.append(encoder.embed_features(windows))
    return out
