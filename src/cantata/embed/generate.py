"""Generation by retrieval: continue a seed in embedding space, render from the catalog.

The seed's consecutive segments are embedded; the continuer predicts the next embedding,
which is rendered by the catalog segment nearest to it (preferring the segment that
follows the previous choice in its own track while it is nearly as close, so phrases run
on), whose own embedding is fed back for the next prediction. The pieces are joined where
an onset falls near each nominal boundary, with short equal-power crossfades and matched
loudness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from cantata import audio
from cantata.errors import CantataError
from cantata.types import Waveform

if TYPE_CHECKING:
    from cantata.catalog import Catalog
    from cantata.embed.api import Embedder
    from cantata.models.continuer import Continuer

#: the next segment of the previous piece's track is kept while it is at most this much
#: farther from the prediction than the nearest segment (embedding units: adjacent
#: segments of one track lie ~1.5 apart, segments of different tracks ~8)
SWITCH_COST = 1.0
#: seconds searched on either side of a nominal boundary for an onset to cut at
SNAP_S = 0.35
FADE_S = 0.06


@dataclass(frozen=True)
class SegmentPool:
    """The catalog's segments to render from.

    Attributes:
        track_ids: (n,) the track of each segment.
        starts_s: (n,) where each starts in its track.
        vectors: (n, dim) float32 embeddings.
        paths: track id -> audio file.
        segment_s: segment length.
    """

    track_ids: np.ndarray
    starts_s: np.ndarray
    vectors: np.ndarray
    paths: dict[int, str]
    segment_s: float

    def __len__(self) -> int:
        return len(self.track_ids)


@dataclass(frozen=True)
class Piece:
    """One rendered segment: which track, where, and how far from its prediction."""

    track_id: int
    path: str
    start_s: float
    distance: float


class _Picker:
    """Chooses pool segments one prediction at a time (see :func:`choose_pieces`)."""

    def __init__(self, pool: SegmentPool, *, k: int, switch_cost: float) -> None:
        if len(pool) == 0:
            raise CantataError("the catalog has no embeddings to render from "
                               "(run cantata scan --analyzers embed)")
        self.pool, self.k, self.switch_cost = pool, min(k, len(pool)), switch_cost
        self.vectors = torch.from_numpy(pool.vectors)
        self.where = {(int(t), round(float(s), 3)): i
                      for i, (t, s) in enumerate(zip(pool.track_ids, pool.starts_s,
                                                     strict=True))}
        self.pieces: list[Piece] = []
        self.recent: list[int] = []

    def pick(self, predicted: np.ndarray) -> int:
        """Index in the pool of the segment for one prediction (dim,); remembered."""
        pool = self.pool
        row = torch.cdist(torch.from_numpy(np.asarray(predicted, np.float32))[None],
                          self.vectors)[0].numpy()
        nearest = np.argpartition(row, self.k - 1)[:self.k]
        nearest = nearest[np.argsort(row[nearest])]
        choice = next((int(i) for i in nearest if int(i) not in self.recent), int(nearest[0]))
        if self.pieces:
            prev = self.pieces[-1]
            follow = self.where.get((prev.track_id, round(prev.start_s + pool.segment_s, 3)))
            if follow is not None and follow not in self.recent and \
                    row[follow] <= row[choice] + self.switch_cost:
                choice = follow
        track = int(pool.track_ids[choice])
        self.pieces.append(Piece(track, pool.paths[track], float(pool.starts_s[choice]),
                                 float(row[choice])))
        self.recent = (self.recent + [choice])[-4:]
        return choice


def choose_pieces(predicted: np.ndarray, pool: SegmentPool, *, k: int = 16,
                  switch_cost: float = SWITCH_COST) -> list[Piece]:
    """The catalog segment for each predicted embedding (n, dim), in order.

    The segment that follows the previous piece in its own track (``segment_s`` later) is
    kept while it is at most ``switch_cost`` farther from the prediction than the nearest
    segment (0: always the nearest); a segment used in the last four pieces is not used
    again.
    """
    picker = _Picker(pool, k=k, switch_cost=switch_cost)
    for row in np.asarray(predicted, np.float32):
        picker.pick(row)
    return picker.pieces


def continue_pieces(seed: np.ndarray, continuer: Continuer, pool: SegmentPool, steps: int, *,
                    context: int = 8, noise: float = 0.0, rng: int = 0, k: int = 16,
                    switch_cost: float = SWITCH_COST) -> list[Piece]:
    """Predict and pick ``steps`` pieces after the seed's embeddings (n, dim), in a closed
    loop: each prediction is made from the embeddings of what was actually picked (so the
    sequence stays on the catalog's music, and ``noise`` varies it without drifting)."""
    generator = torch.Generator().manual_seed(rng)
    picker = _Picker(pool, k=k, switch_cost=switch_cost)
    history = [torch.from_numpy(np.asarray(v, np.float32)) for v in seed[-context:]]
    with torch.inference_mode():
        for _ in range(steps):
            predicted = continuer(torch.stack(history[-context:])[None])[0, -1]
            if noise:
                predicted = predicted + noise * torch.randn(predicted.shape,
                                                            generator=generator)
            history.append(torch.from_numpy(pool.vectors[picker.pick(predicted.numpy())]))
    return picker.pieces


def render(pieces: Sequence[Piece], segment_s: float, *, sample_rate: int = 44100,
           n_channels: int = 2, target_rms: float | None = None) -> Waveform:
    """Join the pieces' audio: each starts at the onset nearest its nominal start (within
    :data:`SNAP_S`) and lasts ``segment_s``, with ``FADE_S`` equal-power crossfades."""
    fade = int(FADE_S * sample_rate)
    seg = int(round(segment_s * sample_rate))
    parts = []
    for piece in pieces:
        start = max(0.0, piece.start_s - SNAP_S)
        wav = audio.load(piece.path, sample_rate=sample_rate, offset_s=start,
                         duration_s=segment_s + 2 * SNAP_S + FADE_S)
        x = _channels(wav.samples, n_channels)
        cut = onset_near(x.mean(axis=0), sample_rate, int((piece.start_s - start) *
                                                          sample_rate))
        part = x[:, cut:cut + seg + fade]
        if part.shape[1] < seg + fade:
            part = np.pad(part, ((0, 0), (0, seg + fade - part.shape[1])))
        rms = float(np.sqrt(np.mean(part ** 2))) + 1e-9
        parts.append(part * (target_rms / rms if target_rms else 1.0))
    return Waveform(crossfade_join(parts, fade), sample_rate)


def crossfade_join(parts: Sequence[np.ndarray], fade: int) -> np.ndarray:
    """Concatenate (channels, time) parts, each overlapping the next by ``fade`` samples
    with equal-power (sin/cos) fades."""
    if not parts:
        return np.zeros((1, 0), np.float32)
    t = (np.arange(fade) + 0.5) / max(fade, 1)
    fade_in, fade_out = np.sin(0.5 * np.pi * t), np.cos(0.5 * np.pi * t)
    out = parts[0].astype(np.float32)
    for part in parts[1:]:
        head = out[:, -fade:] * fade_out + part[:, :fade] * fade_in if fade else out[:, :0]
        out = np.concatenate([out[:, :out.shape[1] - fade], head, part[:, fade:]], axis=1)
    peak = float(np.abs(out).max()) if out.size else 0.0
    return (out / peak * 0.98 if peak > 0.98 else out).astype(np.float32)


def onset_near(mono: np.ndarray, sample_rate: int, at: int, *, hop: int = 256) -> int:
    """The sample of the strongest onset (positive spectral flux) within ``SNAP_S`` of
    ``at``, or ``at`` itself when the stretch is flat."""
    n = len(mono)
    if n < 4 * hop:
        return min(at, max(0, n - 1))
    frames = np.lib.stride_tricks.sliding_window_view(mono, 2 * hop)[::hop]
    spectrum = np.log1p(np.abs(np.fft.rfft(frames * np.hanning(2 * hop), axis=1)))
    flux = np.maximum(np.diff(spectrum, axis=0), 0).sum(axis=1)
    centers = (np.arange(1, len(spectrum)) * hop + hop)
    window = np.abs(centers - at) <= SNAP_S * sample_rate
    if not window.any() or flux[window].max() <= 0:
        return at
    return int(centers[window][np.argmax(flux[window])])


def _channels(x: np.ndarray, n: int) -> np.ndarray:
    if x.shape[0] == n:
        return x
    mono = x.mean(axis=0, keepdims=True)
    return np.repeat(mono, n, axis=0)


def load_pool(catalog: Catalog, model_version: str, segment_s: float) -> SegmentPool:
    """Every stored segment of one embedder in ``catalog``."""
    track_ids, starts, vectors = catalog.embeddings(model_version)
    paths = {}
    for track_id in np.unique(track_ids):
        track = catalog.track(int(track_id))
        if track is not None:
            paths[int(track_id)] = track.path
    keep = np.isin(track_ids, list(paths))
    return SegmentPool(track_ids[keep], starts[keep], vectors[keep], paths, segment_s)


@dataclass(frozen=True)
class Continuation:
    """What :func:`continue_audio` made.

    Attributes:
        audio: the seed (unless left out) followed by the continuation.
        seed_s: seconds of seed at the start of ``audio``.
        pieces: the catalog segments the continuation is made of, in order.
    """

    audio: Waveform
    seed_s: float
    pieces: list[Piece]


def continue_audio(seed: str | Waveform, *, pool: SegmentPool, embedder: Embedder,
                   continuer: Continuer, seconds: float, noise: float = 0.0, rng: int = 0,
                   switch_cost: float = SWITCH_COST,
                   include_seed: bool = True, sample_rate: int = 44100,
                   n_channels: int = 2) -> Continuation:
    """Continue ``seed`` by about ``seconds`` of music retrieved from ``pool``.

    Args:
        seed: an audio file or waveform (at least one segment long).
        pool: the catalog's segments (:func:`load_pool`).
        embedder: an :class:`~cantata.embed.api.Embedder`.
        continuer: a :class:`~cantata.models.continuer.Continuer` for that embedder.
        seconds: length of the continuation (rounded up to whole segments).
        noise: standard deviation added to each fed-back prediction (variety).
        rng: seed of that noise.
        switch_cost: how much farther the next segment of the current catalog track may be
            than the nearest segment and still be played (see :func:`choose_pieces`).
        include_seed: start the output with the seed itself.

    Raises:
        CantataError: the seed is shorter than a segment, or the pool is empty.
    """
    wav = seed if isinstance(seed, Waveform) else audio.load(seed)
    seg = embedder.segment_s
    if wav.duration_s < seg:
        raise CantataError(f"the seed is {wav.duration_s:.1f} s; it needs at least {seg:g} s")
    found = embedder.embed_segments(wav)
    steps = int(np.ceil(seconds / seg))
    pieces = continue_pieces(found.vectors, continuer, pool, steps, noise=noise, rng=rng,
                             switch_cost=switch_cost)
    seed_audio = _channels(audio.resample(wav, sample_rate).samples, n_channels)
    target = float(np.sqrt(np.mean(seed_audio ** 2))) or None
    rendered = render(pieces, seg, sample_rate=sample_rate, n_channels=n_channels,
                      target_rms=target)
    if not include_seed:
        return Continuation(rendered, 0.0, pieces)
    fade = int(FADE_S * sample_rate)
    joined = crossfade_join([seed_audio, rendered.samples], fade)
    return Continuation(Waveform(joined, sample_rate), seed_audio.shape[1] / sample_rate,
                        pieces)


def load_continuer(name_or_path: str, embedder: Embedder) -> Continuer:
    """A shipped continuer (``"continuer"``) or a checkpoint, checked to belong to
    ``embedder`` (a continuer predicts one embedder's vectors only).

    Raises:
        ModelLoadError: missing or not a continuer, or trained for another embedder.
    """
    from cantata.capabilities import model_path
    from cantata.errors import ModelLoadError
    from cantata.models.continuer import Continuer
    from cantata.models.registry import load_checkpoint

    path = model_path(name_or_path, "continue")
    model, checkpoint = load_checkpoint(path)
    if not isinstance(model, Continuer):
        raise ModelLoadError(f"{path}: a {checkpoint.name!r} checkpoint, not a continuer")
    wanted = checkpoint.meta.get("embedder")
    if wanted not in (None, embedder.model_version):
        raise ModelLoadError(f"{path}: trained on the embeddings of {wanted}, not of "
                             f"{embedder.model_version}")
    return model
