"""On-the-fly mixing: random vocals over random accompaniment, labelled from the clean stems.

The 2017 acapella extractor found that dynamic mixes (vocals of one song over the
accompaniment of another, re-drawn every epoch) train as well as real pairs for far less
data. Each item is drawn in two steps, as in audiotools' instantiate/apply split:
:func:`draw_params` turns a seeded generator into a :class:`MixParams` (which examples,
where, how loud, which augmentations) without touching audio, and :func:`apply` decodes
only the crops it names and builds the mix. Items depend on (seed, epoch, index) only, so
they are the same in any worker process and in any order.

Labels come from the crop's clean stems at their recorded level, before the gains: the
activity thresholds are relative to each stem's own level, and the absolute floor of
:class:`~cantata.data.labels.ActivityConfig` (``floor_dbfs``) tells hiss and bleed from
content only at the recording's own level. For the same reason a stem with no active
frame (e.g. the vocals of an instrumental break) is never scaled up to the target SNR.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from cantata.data.augment import (
    fit_length,
    peak_gain,
    pitch_tempo,
    reverberate,
    room_response,
    snr_gain,
    to_channels,
)
from cantata.data.labels import ActivityConfig, stem_activity
from cantata.data.production import Production, draw_production, master, produce_vocals
from cantata.data.records import Example
from cantata.data.sources.stems import duration_s, has_stem, read_stem
from cantata.errors import ConfigError
from cantata.types import Waveform

logger = logging.getLogger(__name__)

MODES = ("mix", "vocals", "accompaniment")


@dataclass(frozen=True)
class MixConfig:
    """How mixes are drawn.

    Attributes:
        segment_s: crop length in seconds.
        sample_rate: output rate in Hz.
        n_channels: 1 (mono) or 2 (stereo) output channels.
        p_mismatch: probability that the accompaniment comes from another group (song,
            singer) than the vocals, at its own offset.
        snr_db: (low, high) vocal-to-accompaniment energy ratio over the crop, in dB.
        gain_db: (low, high) peak level of the mixture, in dBFS.
        p_swap_channels: probability of swapping left and right (stereo only).
        pitch_semitones: (low, high) pitch shift of an augmented stem.
        tempo_ratio: (low, high) speed-up of an augmented stem (1.1 = 10 % faster).
        p_pitch_tempo: probability that a stem gets pitch and tempo augmentation
            (Rubber Band, about 0.3 s of CPU per 4 s mono stem).
        p_reverb: probability that the vocals are played in a synthetic room
            (:func:`~cantata.data.augment.room_response`); the wet vocals are the target,
            as the vocal stem of a produced song carries its reverb.
        reverb_rt60_s: (low, high) reverberation time of the room, in seconds.
        reverb_drr_db: (low, high) energy of the direct sound over the tail's, in dB.
        reverb_predelay_s: (low, high) gap between the direct sound and the tail, in s.
        reverb_damping_hz: (low, high) cut-off of the tail's low-pass (drawn log-uniformly).
        p_production: probability that an item is produced like a studio song
            (:mod:`cantata.data.production`: a vocal chain with doubles, harmonies,
            reverb and delay sends, then the mix mastered to -14..-7 LUFS); such items
            ignore ``gain_db`` and ``p_reverb`` (the chain has its own reverb).
        p_codec: probability that a produced item's mixture goes through an MP3 round
            trip (the stems stay clean).
        p_vocal_only: probability of an a cappella crop (accompaniment silent).
        p_accompaniment_only: probability of an instrumental crop (vocals silent).
        label_hop_s: frame hop of the labels in seconds.
        activity: activity thresholds of the labels (its ``hop_s`` is replaced by
            ``label_hop_s``).
    """

    segment_s: float = 4.0
    sample_rate: int = 16000
    n_channels: int = 1
    p_mismatch: float = 0.5
    snr_db: tuple[float, float] = (-5.0, 5.0)
    gain_db: tuple[float, float] = (-12.0, 0.0)
    p_swap_channels: float = 0.5
    pitch_semitones: tuple[float, float] = (-2.0, 2.0)
    tempo_ratio: tuple[float, float] = (0.9, 1.1)
    p_pitch_tempo: float = 0.3
    p_reverb: float = 0.0
    reverb_rt60_s: tuple[float, float] = (0.3, 2.0)
    reverb_drr_db: tuple[float, float] = (0.0, 15.0)
    reverb_predelay_s: tuple[float, float] = (0.0, 0.04)
    reverb_damping_hz: tuple[float, float] = (1500.0, 8000.0)
    p_production: float = 0.0
    p_codec: float = 0.3
    p_vocal_only: float = 0.05
    p_accompaniment_only: float = 0.1
    label_hop_s: float = 0.02
    activity: ActivityConfig = ActivityConfig()

    def __post_init__(self) -> None:
        if self.segment_s <= 0 or self.sample_rate <= 0 or self.label_hop_s <= 0:
            raise ConfigError("segment_s, sample_rate and label_hop_s must be positive")
        if self.n_channels not in (1, 2):
            raise ConfigError(f"n_channels must be 1 or 2, got {self.n_channels}")
        for name in ("p_mismatch", "p_swap_channels", "p_pitch_tempo", "p_reverb",
                     "p_production", "p_codec", "p_vocal_only", "p_accompaniment_only"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.p_vocal_only + self.p_accompaniment_only > 1.0:
            raise ConfigError("p_vocal_only + p_accompaniment_only must not exceed 1")
        for name in ("snr_db", "gain_db", "pitch_semitones", "tempo_ratio", "reverb_rt60_s",
                     "reverb_drr_db", "reverb_predelay_s", "reverb_damping_hz"):
            low, high = getattr(self, name)
            if low > high:
                raise ConfigError(f"{name} must be (low, high), got {(low, high)}")
        if self.tempo_ratio[0] <= 0 or self.gain_db[1] > 0:
            raise ConfigError("tempo_ratio must be positive and gain_db at most 0 dBFS")
        if min(self.reverb_rt60_s[0], self.reverb_damping_hz[0]) <= 0 or \
                self.reverb_predelay_s[0] < 0:
            raise ConfigError("reverb_rt60_s and reverb_damping_hz must be positive and "
                              "reverb_predelay_s not negative")

    @property
    def n_samples(self) -> int:
        """Samples per crop and channel."""
        return round(self.segment_s * self.sample_rate)

    @property
    def n_frames(self) -> int:
        """Label frames per crop."""
        return math.ceil(self.n_samples / max(1, round(self.label_hop_s * self.sample_rate)))


@dataclass(frozen=True)
class StemCrop:
    """Where a stem is read and how it is reshaped.

    Attributes:
        index: position in the pool's vocals or accompaniments.
        offset_s: start of the read in the source, in seconds.
        semitones: pitch shift (0 = none).
        tempo: speed-up (1 = none); ``segment_s * tempo`` seconds are read.
    """

    index: int
    offset_s: float
    semitones: float = 0.0
    tempo: float = 1.0

    @property
    def shifted(self) -> bool:
        return self.semitones != 0.0 or self.tempo != 1.0


@dataclass(frozen=True)
class Room:
    """The synthetic room the vocals are played in (see :class:`MixConfig`); ``seed``
    draws its noise tail."""

    rt60_s: float
    drr_db: float
    predelay_s: float
    damping_hz: float
    seed: int


@dataclass(frozen=True)
class MixParams:
    """Everything random about one item; :func:`apply` is deterministic given these.

    Attributes:
        vocals: crop of the vocal stem.
        accompaniment: crop of the accompaniment stem.
        mismatch: the accompaniment is not the vocals' own.
        mode: ``"mix"``, ``"vocals"`` (a cappella) or ``"accompaniment"`` (instrumental).
        snr_db: vocal-to-accompaniment energy ratio of a ``"mix"``.
        gain_db: peak level of the mixture in dBFS.
        swap_channels: swap left and right of both stems.
        room: the room the vocals are played in, or None (dry).
        production: the studio production of the item, or None (see
            :mod:`cantata.data.production`).
    """

    vocals: StemCrop
    accompaniment: StemCrop
    mismatch: bool
    mode: str
    snr_db: float
    gain_db: float
    swap_channels: bool
    room: Room | None = None
    production: Production | None = None


class MixPool:
    """The examples mixes are drawn from, with what drawing needs precomputed.

    Args:
        vocals: examples that give vocals (each may carry its own accompaniment).
        accompaniments: examples that give accompaniment; None: those of ``vocals``.
            Pure instrumentals (``meta["vocal_free"]``) belong here.

    Raises:
        ConfigError: an empty pool, or an example without the stem its pool needs.
    """

    def __init__(self, vocals: Sequence[Example],
                 accompaniments: Sequence[Example] | None = None) -> None:
        self.vocals = tuple(vocals)
        self.accompaniments = tuple(vocals if accompaniments is None else accompaniments)
        for name, pool in (("vocals", self.vocals), ("accompaniment", self.accompaniments)):
            if not pool:
                raise ConfigError(f"no examples to draw {name} from")
            lacking = [ex.id for ex in pool if not has_stem(ex, name)]
            if lacking:
                raise ConfigError(f"{len(lacking)} example(s) give no {name!r} stem, "
                                  f"e.g. {lacking[:3]}")
        self.vocal_durations = np.array([duration_s(ex) for ex in self.vocals])
        self.accompaniment_durations = np.array([duration_s(ex) for ex in self.accompaniments])
        position = {ex.id: i for i, ex in enumerate(self.accompaniments)}
        self.pair = np.array([position.get(ex.id, -1) for ex in self.vocals])
        groups = np.array([ex.group for ex in self.accompaniments])
        self._order = np.argsort(groups, kind="stable")
        sorted_groups = groups[self._order]
        vocal_groups = [ex.group for ex in self.vocals]
        self._same = np.stack([np.searchsorted(sorted_groups, vocal_groups, side=side)
                               for side in ("left", "right")], axis=1)
        if np.any(self._same[:, 1] - self._same[:, 0] == len(self.accompaniments)):
            logger.warning("all accompaniments share the vocals' group: mismatched mixes "
                           "will reuse the same group")

    def other_accompaniment(self, vocal: int, rng: np.random.Generator) -> int:
        """A uniformly drawn accompaniment of another group than vocals ``vocal``."""
        low, high = (int(b) for b in self._same[vocal])
        n_other = len(self.accompaniments) - (high - low)
        if n_other == 0:
            return int(rng.integers(len(self.accompaniments)))
        k = int(rng.integers(n_other))
        return int(self._order[k if k < low else k + high - low])


def draw_params(rng: np.random.Generator, pool: MixPool, config: MixConfig) -> MixParams:
    """Draw one item's parameters (no audio is read).

    The vocals are drawn uniformly; with probability ``1 - p_mismatch`` the accompaniment
    is their own (same offset, same pitch/tempo, so the pair stays in time and in tune),
    otherwise one of another group at its own offset. Vocals that have no accompaniment
    of their own in the pool are always mismatched.
    """
    v = int(rng.integers(len(pool.vocals)))
    own = int(pool.pair[v])
    mismatch = own < 0 or bool(rng.random() < config.p_mismatch)
    a = pool.other_accompaniment(v, rng) if mismatch else own
    vocals = _draw_crop(rng, v, pool.vocal_durations[v], config)
    if mismatch:
        accompaniment = _draw_crop(rng, a, pool.accompaniment_durations[a], config)
    else:
        accompaniment = replace(vocals, index=a)
    u = rng.random()
    mode = "vocals" if u < config.p_vocal_only else (
        "accompaniment" if u < config.p_vocal_only + config.p_accompaniment_only else "mix")
    snr_db, gain_db = float(rng.uniform(*config.snr_db)), float(rng.uniform(*config.gain_db))
    swap = config.n_channels == 2 and bool(rng.random() < config.p_swap_channels)
    # drawn last and only when asked for, so that p_reverb = 0 leaves every item as it was
    room = _draw_room(rng, config) if config.p_reverb > 0 and mode != "accompaniment" else None
    production = None
    if config.p_production > 0 and rng.random() < config.p_production:
        production, room = draw_production(rng, p_codec=config.p_codec), None
    return MixParams(vocals=vocals, accompaniment=accompaniment, mismatch=mismatch, mode=mode,
                     snr_db=snr_db, gain_db=gain_db, swap_channels=swap, room=room,
                     production=production)


def _draw_room(rng: np.random.Generator, config: MixConfig) -> Room | None:
    if rng.random() >= config.p_reverb:
        return None
    low, high = np.log(config.reverb_damping_hz)
    return Room(rt60_s=float(rng.uniform(*config.reverb_rt60_s)),
                drr_db=float(rng.uniform(*config.reverb_drr_db)),
                predelay_s=float(rng.uniform(*config.reverb_predelay_s)),
                damping_hz=float(np.exp(rng.uniform(low, high))),
                seed=int(rng.integers(2**31)))


def _draw_crop(rng: np.random.Generator, index: int, source_s: float,
               config: MixConfig) -> StemCrop:
    semitones, tempo = 0.0, 1.0
    if rng.random() < config.p_pitch_tempo:
        semitones = float(rng.uniform(*config.pitch_semitones))
        tempo = float(rng.uniform(*config.tempo_ratio))
    spare_s = max(0.0, float(source_s) - config.segment_s * tempo)
    return StemCrop(index=index, offset_s=spare_s * float(rng.random()), semitones=semitones,
                    tempo=tempo)


def apply(params: MixParams, pool: MixPool, config: MixConfig) -> dict[str, np.ndarray]:
    """Decode the crops of ``params`` and build the item.

    The vocals are scaled to ``params.snr_db`` when both stems have active frames; the
    mixture's peak is then put at ``params.gain_db`` dBFS (a crop with nothing active is
    only attenuated by ``gain_db``, so that hiss is not raised to full level).

    Returns:
        float32 arrays: ``mixture``, ``vocals``, ``accompaniment`` (channels, samples)
        with mixture == vocals + accompaniment (but after a produced item's codec), and
        ``labels`` (3, frames) in {0, 1}, rows in
        :data:`~cantata.data.labels.SONG_LABELS` order (vocal, accompaniment, silence).
    """
    silent = np.zeros((config.n_channels, config.n_samples), np.float32)
    vocals = silent if params.mode == "accompaniment" else _render(
        pool.vocals[params.vocals.index], "vocals", params.vocals, config)
    if params.room is not None:
        room = params.room
        vocals = reverberate(vocals, room_response(
            np.random.default_rng(room.seed), config.sample_rate, config.n_channels,
            rt60_s=room.rt60_s, drr_db=room.drr_db, predelay_s=room.predelay_s,
            damping_hz=room.damping_hz))
    backing = silent if params.mode == "vocals" else _render(
        pool.accompaniments[params.accompaniment.index], "accompaniment",
        params.accompaniment, config)
    activity = replace(config.activity, hop_s=config.label_hop_s)
    vocal_on = stem_activity(Waveform(vocals, config.sample_rate), activity)
    backing_on = stem_activity(Waveform(backing, config.sample_rate), activity)
    produced = params.production
    if produced is not None and params.mode != "accompaniment":
        vocals = produce_vocals(vocals, config.sample_rate, produced.vocals, config.n_channels)
    if vocal_on.any() and backing_on.any():
        vocals = vocals * snr_gain(vocals, backing, params.snr_db)
    if params.swap_channels:
        vocals, backing = vocals[::-1], backing[::-1]
    labels = np.stack([vocal_on, backing_on, ~(vocal_on | backing_on)]).astype(np.float32)
    if produced is not None:
        mixture, vocals, backing = master(vocals, backing, config.sample_rate,
                                          produced.mastering)
        return {"mixture": mixture, "vocals": vocals, "accompaniment": backing,
                "labels": labels}
    if vocal_on.any() or backing_on.any():
        gain = peak_gain(vocals + backing, params.gain_db)
    else:
        gain = 10 ** (params.gain_db / 20)
    vocals = np.ascontiguousarray(vocals * gain, dtype=np.float32)
    backing = np.ascontiguousarray(backing * gain, dtype=np.float32)
    return {"mixture": vocals + backing, "vocals": vocals, "accompaniment": backing,
            "labels": labels}


def _render(example: Example, name: str, crop: StemCrop, config: MixConfig) -> np.ndarray:
    """One stem's crop at the output rate and channel count, (channels, n_samples)."""
    rate = config.sample_rate
    read_s = config.segment_s * crop.tempo
    wav = read_stem(example, name, offset_s=crop.offset_s, duration_s=read_s, sample_rate=rate)
    x = fit_length(to_channels(wav.samples, config.n_channels), round(read_s * rate))
    if crop.shifted:
        x = pitch_tempo(x, rate, semitones=crop.semitones, tempo=crop.tempo)
    return fit_length(x, config.n_samples)


class DynamicMixDataset(torch.utils.data.Dataset):
    """Map-style dataset of on-the-fly mixes, deterministic in (seed, epoch, index).

    Call :meth:`set_epoch` before each epoch to re-draw every item (with DataLoader
    workers, before the loader's iterator is created, and without ``persistent_workers``).

    Args:
        examples: examples that give vocals (and usually their own accompaniment).
        config: how mixes are drawn.
        length: items per epoch.
        seed: base seed.
        accompaniments: the accompaniment pool; None: the accompaniments of ``examples``.
            Add instrumentals here (``examples + instrumentals``).

    Items are dicts of tensors: ``mixture``, ``vocals``, ``accompaniment`` float32
    (channels, samples); ``labels`` float32 (3, frames) for vocal / accompaniment /
    silence; ``index`` int64 scalar.
    """

    def __init__(self, examples: Sequence[Example], config: MixConfig, *, length: int,
                 seed: int = 0, accompaniments: Sequence[Example] | None = None) -> None:
        if length < 1:
            raise ConfigError(f"length must be at least 1, got {length}")
        self.pool = MixPool(examples, accompaniments)
        self.config, self.length, self.seed = config, length, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the items those of ``epoch``."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def draw(self, index: int) -> MixParams:
        """The parameters of item ``index`` in the current epoch."""
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} items")
        return draw_params(np.random.default_rng([self.seed, self.epoch, index]), self.pool,
                           self.config)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = apply(self.draw(index), self.pool, self.config)
        out = {key: torch.from_numpy(value) for key, value in item.items()}
        out["index"] = torch.tensor(index, dtype=torch.int64)
        return out
