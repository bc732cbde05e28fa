"""Music for the embedder: whole tracks as features, a held-out split, adjacent pairs.

A :class:`Track` is one piece of music as the embedder's features (mono, at the
features' rate, float16 to keep an hour of music in about 40 MB):

- MIR-1K: one track per SONG ``<singer>_<song>``: its clips in clip order, each clip's
  vocals scaled to the energy of its accompaniment (the 0 dB protocol) and added to it,
  then concatenated (group ``"mir1k"``, ``singer`` set);
- instrumental music (the Debian game soundtracks, or folders): each whole file longer
  than :data:`MIN_INSTRUMENTAL_S` (group = the game or the folder; the sample packs of
  :data:`~cantata.data.sources.instrumentals.SAMPLE_PACKS` are left out);
- synthetic songs (``cantata data synth song`` folders): their mixture (group ``"synth"``).

Features are cached on disk (one ``.npy`` per track, named by the track id and a hash of
the feature config and the track's files) so that every run and benchmark computes them
once. :func:`split_tracks` holds out whole tracks (whole singers for MIR-1K);
:class:`AdjacentPairs` draws (anchor, positive) pairs for training and
:class:`FixedPairs` is the validation set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from cantata import audio
from cantata.data.records import Example, read_manifest
from cantata.data.sources import load_instrumentals, load_mir1k, read_stems
from cantata.data.sources.instrumentals import SAMPLE_PACKS
from cantata.embed.augment import check_degradable, degrade_logmel, shift_level
from cantata.errors import ConfigError
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.files import atomic_output
from cantata.types import Waveform

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
#: instrumental files shorter than this are one-shots or stingers, not tracks
MIN_INSTRUMENTAL_S = 12.0
#: bump when the way a track's audio is made changes (invalidates cached features)
RECIPE_VERSION = 1
#: what :func:`music_tracks` reads the installed Debian soundtracks for
DEBIAN = "debian"
_KINDS = ("mir1k", "file", "song")


@dataclass(frozen=True)
class Track:
    """One piece of music as the embedder's features.

    Attributes:
        id: unique, e.g. ``"mir1k/amy_3"``, ``"instrumentals/wesnoth/battle"``,
            ``"synth/songs/song-000012"``.
        group: ``"mir1k"``, the game or folder of an instrumental, or ``"synth"``.
        features: float16 (n_features, frames) of the whole track, mono, at the rate of
            the FeatureConfig it was made with.
        has_vocals: the track has singing in it.
        singer: the MIR-1K singer (None for other tracks).
    """

    id: str
    group: str
    features: np.ndarray = field(repr=False, compare=False)
    has_vocals: bool
    singer: str | None
    #: how :meth:`waveform` rebuilds the audio: "mir1k" (0 dB mixes of ``clips``
    #: concatenated), "file" (``sources[0]``), "song" (its mixture, or the sum of stems)
    kind: str = field(default="file", repr=False)
    sources: tuple[str, ...] = field(default=(), repr=False)
    clips: tuple[Example, ...] = field(default=(), repr=False, compare=False)
    sample_rate: int = field(default=16000, repr=False)

    @property
    def n_frames(self) -> int:
        return int(self.features.shape[-1])

    def waveform(self) -> Waveform:
        """The track's audio, mono at the features' rate, as its features were made from."""
        return Waveform(_track_audio(self.kind, self.sources, self.clips, self.sample_rate),
                        self.sample_rate)


def music_tracks(
    *,
    mir1k: PathLike | None = None,
    instrumentals: PathLike | Sequence[PathLike] | None = None,
    songs: PathLike | Sequence[PathLike] | None = None,
    features: FeatureConfig,
    cache: PathLike | None = None,
) -> list[Track]:
    """The music of the given collections as tracks of ``features``, in a fixed order.

    Args:
        mir1k: a MIR-1K folder (either layout of :func:`~cantata.data.sources.load_mir1k`).
        instrumentals: ``"debian"`` (the installed Debian game soundtracks, not the sample
            packs) and/or folders of vocal-free music; one or a list.
        songs: ``cantata data synth song`` folders (a manifest each); one or a list.
        features: the representation (its sample rate is the audio's).
        cache: folder for the features (created if missing); None computes them every time.

    Returns:
        MIR-1K songs, then instrumentals, then synthetic songs, each sorted by id.

    Raises:
        ConfigError: a folder is missing or holds nothing usable, or no source was given.
    """
    specs: list[tuple[str, str, bool, str | None, str, tuple[str, ...], tuple[Example, ...]]]
    specs = []
    if mir1k is not None:
        specs += _mir1k_specs(mir1k)
    for example in _instrumental_examples(_as_list(instrumentals)):
        specs.append((example.id, example.group, False, None, "file", (str(example.audio),), ()))
    for folder in _as_list(songs):
        for ex in sorted(read_manifest(folder), key=lambda e: e.id):
            sources = (ex.audio,) if ex.audio else tuple(ex.stems[k] for k in sorted(ex.stems))
            has_vocals = any(r.label == "vocal" for r in ex.regions) or "vocals" in ex.stems
            specs.append((f"synth/{Path(folder).name}/{ex.id}", "synth", has_vocals, None,
                          "song", tuple(str(s) for s in sources), ()))
    if not specs:
        raise ConfigError("no music: give mir1k, instrumentals and/or songs")
    extractor = FeatureExtractor(features)
    key = _config_key(features)
    tracks = []
    for track_id, group, vocals, singer, kind, sources, clips in specs:
        feats = _cached_features(track_id, key, kind, sources, clips, features, extractor,
                                 cache)
        tracks.append(Track(track_id, group, feats, vocals, singer, kind=kind, sources=sources,
                            clips=clips, sample_rate=features.sample_rate))
    log.info("music: %d tracks, %.1f min", len(tracks),
             sum(t.n_frames for t in tracks) / features.frame_rate_hz / 60)
    return tracks


def split_tracks(tracks: Sequence[Track], *, held_out: float = 0.2,
                 seed: int = 0) -> tuple[list[Track], list[Track]]:
    """(kept, held out): whole tracks held out, deterministically.

    MIR-1K tracks (those with a ``singer``) are held out by singer: singers in a seeded
    order are added while that brings the held-out count closer to ``held_out`` of the
    MIR-1K tracks. Other tracks are held out per group: the ``round(held_out * n)`` first
    of the group in a seeded order (none of a group of one). The same tracks and seed
    always give the same split, whatever the other collections hold.
    """
    if not 0.0 <= held_out < 1.0:
        raise ConfigError(f"held_out must be in [0, 1), got {held_out}")

    def order(name: str) -> int:
        return zlib.crc32(f"{seed}:{name}".encode())

    held: set[str] = set()
    sung = [t for t in tracks if t.singer is not None]
    per_singer: dict[str, int] = {}
    for t in sung:
        per_singer[str(t.singer)] = per_singer.get(str(t.singer), 0) + 1
    target, count = held_out * len(sung), 0
    held_singers = set()
    for singer in sorted(per_singer, key=order):
        if len(held_singers) + 1 < len(per_singer) and \
                abs(count + per_singer[singer] - target) < abs(count - target):
            held_singers.add(singer)
            count += per_singer[singer]
    held |= {t.id for t in sung if t.singer in held_singers}
    groups: dict[str, list[Track]] = {}
    for t in tracks:
        if t.singer is None:
            groups.setdefault(t.group, []).append(t)
    for members in groups.values():
        n_held = round(held_out * len(members)) if len(members) > 1 else 0
        held |= {t.id for t in sorted(members, key=lambda t: order(t.id))[:n_held]}
    return [t for t in tracks if t.id not in held], [t for t in tracks if t.id in held]


class AdjacentPairs(torch.utils.data.Dataset):
    """Random adjacent pairs for training: (anchor, positive, track index).

    Item ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``: a track drawn in
    proportion to its length, an anchor of ``segment_frames`` at a random place, and the
    positive starting 0 to ``max_gap_frames`` after the anchor ends (less when the track
    is too short for the whole gap). With ``degrade``, the anchor is, with that
    probability, heard as re-recorded by a phone in a room
    (:func:`~cantata.embed.augment.degrade_logmel`; log-mel only), so that a recorded
    query finds the clean catalog segment. With ``gain_db``, each segment's log-mel level
    is shifted by its own random gain in +-``gain_db`` (the model should not tell
    adjacency from loudness alone); MFCC shift their 0th coefficient accordingly, chroma
    is level-free.

    Items: anchor and positive float32 (n_features, segment_frames), the track's index in
    ``tracks`` (int64).
    """

    def __init__(self, tracks: Sequence[Track], *, segment_frames: int, max_gap_frames: int,
                 length: int, seed: int = 0, gain_db: float = 0.0, degrade: float = 0.0,
                 features: FeatureConfig | None = None) -> None:
        if not 0.0 <= degrade <= 1.0:
            raise ConfigError(f"degrade is a probability in [0, 1], got {degrade}")
        if degrade > 0:
            if features is None:
                raise ConfigError("degrading queries needs the features' config")
            check_degradable(features)
        self.tracks = [t for t in tracks if t.n_frames >= 2 * segment_frames]
        if not self.tracks:
            raise ConfigError(f"no track holds two segments of {segment_frames} frames")
        self.segment, self.max_gap = segment_frames, max_gap_frames
        self.length, self.seed, self.epoch = length, seed, 0
        self.gain_db, self.degrade, self.features = gain_db, degrade, features
        lengths = np.array([t.n_frames for t in self.tracks], np.float64)
        self.cumulative = np.cumsum(lengths / lengths.sum())

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        k = min(int(np.searchsorted(self.cumulative, rng.random(), side="right")),
                len(self.tracks) - 1)
        track, seg = self.tracks[k], self.segment
        max_gap = min(self.max_gap, track.n_frames - 2 * seg)
        gap = int(rng.integers(0, max_gap + 1))
        start = int(rng.integers(0, track.n_frames - 2 * seg - gap + 1))
        anchor = _segment(track, start, seg)
        positive = _segment(track, start + seg + gap, seg)
        if self.degrade > 0 and rng.random() < self.degrade:
            anchor = degrade_logmel(anchor, self.features, rng)  # type: ignore[arg-type]
        if self.gain_db > 0:
            gains = rng.uniform(-self.gain_db, self.gain_db, size=2)
            anchor, positive = (shift_level(x, float(g), self.features)
                                for x, g in zip((anchor, positive), gains, strict=True))
        return torch.from_numpy(anchor), torch.from_numpy(positive), k


class FixedPairs(torch.utils.data.Dataset):
    """Deterministic adjacent pairs of held-out tracks, for validation.

    Along each track, an anchor every ``hop_frames`` with its positive starting a seeded
    0 to ``max_gap_frames`` after it; at most ``max_pairs`` pairs, evenly spread over all
    of them when there are more. Items as :class:`AdjacentPairs`'s (indices into
    ``tracks``).
    """

    def __init__(self, tracks: Sequence[Track], *, segment_frames: int, max_gap_frames: int,
                 hop_frames: int | None = None, max_pairs: int = 1024, seed: int = 0) -> None:
        self.tracks = list(tracks)
        seg = segment_frames
        hop = hop_frames or 2 * seg + max_gap_frames
        rng = np.random.default_rng([seed, 7919])
        pairs: list[tuple[int, int, int]] = []
        for k, track in enumerate(self.tracks):
            if track.n_frames < 2 * seg:
                continue
            for start in range(0, track.n_frames - 2 * seg + 1, hop):
                room = track.n_frames - 2 * seg - start
                gap = int(rng.integers(0, min(max_gap_frames, room) + 1))
                pairs.append((k, start, start + seg + gap))
        if not pairs:
            raise ConfigError(f"no validation track holds two segments of {seg} frames")
        if len(pairs) > max_pairs:
            keep = np.linspace(0, len(pairs) - 1, max_pairs).round().astype(int)
            pairs = [pairs[i] for i in keep]
        self.pairs, self.segment = pairs, seg

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        k, a, p = self.pairs[index]
        track = self.tracks[k]
        return (torch.from_numpy(_segment(track, a, self.segment)),
                torch.from_numpy(_segment(track, p, self.segment)), k)


def _segment(track: Track, start: int, n: int) -> np.ndarray:
    return np.asarray(track.features[:, start:start + n], dtype=np.float32)


def _as_list(value: PathLike | Sequence[PathLike] | None) -> list[PathLike]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        return [value]
    return list(value)


def _mir1k_specs(root: PathLike) -> list[tuple]:
    songs: dict[str, list[Example]] = {}
    for clip in load_mir1k(root):
        name = clip.id.split("/", 1)[1]
        songs.setdefault(name.rsplit("_", 1)[0], []).append(clip)
    specs = []
    for song, clips in sorted(songs.items()):
        ordered = tuple(sorted(clips, key=lambda ex: _clip_order(ex.id)))
        sources = tuple(str(ex.audio or "|".join(ex.stems[k] for k in sorted(ex.stems)))
                        for ex in ordered)
        specs.append((f"mir1k/{song}", "mir1k", True, song.split("_", 1)[0], "mir1k",
                      sources, ordered))
    return specs


def _clip_order(clip_id: str) -> tuple[int, str]:
    last = clip_id.rsplit("_", 1)[-1]
    return (int(last), last) if last.isdigit() else (1 << 30, last)


def _instrumental_examples(roots: list[PathLike]) -> list[Example]:
    debian = any(str(r) == DEBIAN for r in roots)
    folders = [r for r in roots if str(r) != DEBIAN]
    examples = [ex for ex in load_instrumentals() if ex.group not in SAMPLE_PACKS] \
        if debian else []
    examples += load_instrumentals(folders) if folders else []
    kept = [ex for ex in examples if ex.duration_s >= MIN_INSTRUMENTAL_S]
    if roots and not kept:
        raise ConfigError(f"no instrumental track of {MIN_INSTRUMENTAL_S:g} s or more in "
                          f"{', '.join(map(str, roots))}")
    return sorted(kept, key=lambda ex: ex.id)


def _track_audio(kind: str, sources: tuple[str, ...], clips: tuple[Example, ...],
                 rate: int) -> np.ndarray:
    """Mono float32 samples of a track at ``rate``."""
    if kind == "mir1k":
        return np.concatenate([_zero_db_mix(clip, rate) for clip in clips])
    if kind == "file" or len(sources) == 1:
        return audio.load(sources[0], sample_rate=rate, mono=True).samples[0]
    parts = [audio.load(s, sample_rate=rate, mono=True).samples[0] for s in sources]
    n = max(len(p) for p in parts)
    return np.sum([np.pad(p, (0, n - len(p))) for p in parts], axis=0).astype(np.float32)


def _zero_db_mix(clip: Example, rate: int) -> np.ndarray:
    """A MIR-1K clip's vocals scaled to its accompaniment's energy, plus the accompaniment."""
    stems = read_stems(clip, sample_rate=rate)
    vocals, backing = (stems[k].to_mono().samples[0] for k in ("vocals", "accompaniment"))
    n = min(len(vocals), len(backing))
    vocals, backing = vocals[:n], backing[:n]
    v_rms, a_rms = float(np.sqrt(np.mean(vocals**2))), float(np.sqrt(np.mean(backing**2)))
    gain = a_rms / v_rms if v_rms > 1e-6 and a_rms > 1e-6 else 1.0
    return (backing + gain * vocals).astype(np.float32)


def _config_key(features: FeatureConfig) -> str:
    return json.dumps({"features": features.to_dict(), "recipe": RECIPE_VERSION},
                      sort_keys=True)


def _cached_features(track_id: str, key: str, kind: str, sources: tuple[str, ...],
                     clips: tuple[Example, ...], features: FeatureConfig,
                     extractor: FeatureExtractor, cache: PathLike | None) -> np.ndarray:
    path = None
    if cache is not None:
        digest = hashlib.sha1(json.dumps([key, kind, list(sources)]).encode()).hexdigest()[:12]
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", track_id)[-120:]
        path = Path(cache) / f"{safe}-{digest}.npy"
        if path.is_file():
            return np.load(path)
    samples = _track_audio(kind, sources, clips, features.sample_rate)
    with torch.inference_mode():
        feats = extractor(torch.from_numpy(samples)).numpy().astype(np.float16)
    if path is not None:
        with atomic_output(path, overwrite=True) as tmp, tmp.open("wb") as f:
            np.save(f, feats)
    return feats


def track_minutes(tracks: Iterable[Track], features: FeatureConfig) -> float:
    """Total length of ``tracks`` in minutes."""
    return sum(t.n_frames for t in tracks) / features.frame_rate_hz / 60
