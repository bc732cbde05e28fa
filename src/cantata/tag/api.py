"""The tagging API: load a tagger once, tag files or arrays.

A recording's log-mel is cut into ``chunk_s``-long chunks every ``hop_s`` (by default
back to back; the end gets one more chunk, :func:`cantata.engine.segment_starts`), the
chunks run through the network a batch at a time (:func:`cantata.engine.run_batches`),
and their probabilities are pooled (mean by default) into the song's scores; each tag is
present when its score reaches the tag's threshold, calibrated on validation data and
stored in the checkpoint (``meta["thresholds"]``). A checkpoint with lyrics heads
(``meta["lyrics_heads"]``) also fuses the text score of a recording's lyrics into those
tags' scores (:mod:`cantata.tag.lyrics`).

Example:
    >>> tagger = Tagger.from_pretrained("run/best.pt")               # doctest: +SKIP
    >>> tagger.tag("song.mp3").ranked(top=2)                          # doctest: +SKIP
    [{'tag': 'piano', 'score': 0.93, 'present': True}, ...]
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch

from cantata import audio
from cantata.capabilities import capability, load, model_path, weights_identity
from cantata.engine import run_batches, segment_starts
from cantata.errors import ConfigError, ModelLoadError
from cantata.features import FeatureExtractor
from cantata.models.registry import load_checkpoint
from cantata.models.tagger import Tagger as TaggerNet
from cantata.tag.lyrics import LyricsHeads, TextEncoder, embed_lyrics, fuse
from cantata.tag.postprocess import TagScores, pool, thresholds_for
from cantata.types import Source, Waveform, as_source

PathLike = str | os.PathLike[str]
#: chunks per forward pass
BATCH = 32


class Tagger:
    """A tagger network, its per-tag thresholds and how it pools chunks into a song, and
    optionally lyrics heads fused into some tags' scores (``encoder``: what embeds the
    lyrics, by default wordllama, loaded on first use)."""

    def __init__(self, model: TaggerNet, *, name: str = "", model_version: str = "",
                 thresholds: Mapping[str, float] | None = None, pooling: str = "mean",
                 lyrics_heads: LyricsHeads | None = None,
                 encoder: TextEncoder | None = None) -> None:
        self.model = model.eval()
        self.config = model.config
        self.name, self.model_version = name, model_version or name
        self.tags: tuple[str, ...] = tuple(self.config.tags)
        self.thresholds = thresholds_for(self.tags, thresholds)
        self.pooling = pooling
        self.extractor = FeatureExtractor(self.config.features)
        self.lyrics_heads, self.encoder = lyrics_heads, encoder

    @classmethod
    def from_pretrained(cls, name_or_path: PathLike | None = None) -> Tagger:
        """A shipped tagger by name, a debug one (``"debug"``), or a checkpoint, with its
        thresholds (``meta["thresholds"]``), pooling (``meta["pooling"]``) and lyrics heads
        (``meta["lyrics_heads"]``).

        Raises:
            ModelLoadError: unknown name, missing weights, no model shipped yet (with no
                name given), or a checkpoint of another network.
        """
        cap = capability("tag")
        name = os.fspath(name_or_path) if name_or_path is not None else cap.default_model
        if name in cap.debug:
            return cls(load(cap.debug[name])(), name=name)
        path = model_path(name, "tag")
        model, checkpoint = load_checkpoint(path)
        if not isinstance(model, TaggerNet):
            raise ModelLoadError(f"{path}: a {checkpoint.name!r} checkpoint, not a tagger")
        meta = checkpoint.meta
        try:
            heads = meta.get("lyrics_heads")
            return cls(model, name=name, model_version=weights_identity(path),
                       thresholds=meta.get("thresholds"), pooling=meta.get("pooling", "mean"),
                       lyrics_heads=None if heads is None
                       else LyricsHeads.from_meta(heads, model.config.tags))
        except ConfigError as err:  # thresholds or lyrics heads that do not fit the model
            raise ModelLoadError(f"{path}: {err}") from err

    @property
    def sample_rate(self) -> int:
        return int(self.config.features.sample_rate)

    @property
    def frames_per_s(self) -> float:
        return self.config.features.sample_rate / self.config.features.hop_length

    def features_of(self, src: Source, sr: int | None = None, *,
                    sample_rate: int | None = None) -> tuple[torch.Tensor, float]:
        """The recording's log-mel (n_mels, frames), mono at the model's rate, and its
        length in seconds."""
        src = as_source(src, sr, sample_rate=sample_rate)
        wav = audio.resample(src.to_mono(), self.sample_rate) if isinstance(src, Waveform) \
            else audio.load(src, sample_rate=self.sample_rate, mono=True)
        with torch.inference_mode():
            return self.extractor(torch.from_numpy(wav.samples))[0], wav.duration_s

    def tag(self, src: Source, sr: int | None = None, *, sample_rate: int | None = None,
            hop_s: float | None = None, lyrics: str | None = None) -> TagScores:
        """The tags of a recording: every chunk's scores and the song's.

        Args:
            src: an audio file, a Waveform, or an array ``y`` in any layout
                :class:`~cantata.types.Waveform` accepts.
            sr: the array's sample rate (librosa's name; ``sample_rate=`` is the same).
            hop_s: seconds between chunk starts (default ``chunk_s``: back to back).
            lyrics: the recording's lyrics: the tags with lyrics heads get the mean of the
                audio and text scores (and thresholds); None or blank: audio alone.

        Raises:
            AudioLoadError: the file cannot be read.
            ConfigError: an array without its rate; lyrics for a tagger without lyrics heads.
            CantataError: lyrics given and wordllama not installed.
        """
        if lyrics is not None and lyrics.strip() and self.lyrics_heads is None:
            raise ConfigError(f"tagger {self.name!r} has no lyrics heads "
                              f"(meta['lyrics_heads']); tag without lyrics")
        features, duration_s = self.features_of(src, sr, sample_rate=sample_rate)
        chunk = self.config.chunk_frames
        hop = max(1, round((hop_s or self.config.chunk_s) * self.frames_per_s))
        starts = segment_starts(features.shape[-1], length=chunk, hop=hop)
        probs = self.chunk_probs([features[:, s:s + chunk] for s in starts])
        scores, thresholds = pool(probs, self.pooling), self.thresholds
        if lyrics is not None and lyrics.strip() and self.lyrics_heads is not None:
            embedding = embed_lyrics([lyrics.strip()], self.encoder)[0]
            scores, thresholds = fuse(self.tags, scores, thresholds, self.lyrics_heads,
                                      embedding)
        return TagScores(self.tags, scores, thresholds, duration_s, self.name, probs,
                         np.array(starts) / self.frames_per_s)

    def chunk_probs(self, chunks: list[torch.Tensor]) -> np.ndarray:
        """Probabilities (chunks, tags) of log-mel chunks (each (n_mels, frames)); chunks
        of one length share batches."""
        with torch.inference_mode():
            rows = run_batches(chunks, self._forward, key=lambda c: int(c.shape[-1]),
                               batch_size=BATCH)
        return np.array(rows, np.float64).reshape(len(chunks), len(self.tags))

    def _forward(self, chunks: list[torch.Tensor]) -> np.ndarray:
        return torch.sigmoid(self.model(torch.stack(chunks))).numpy()


def tag(src: Source, sr: int | None = None, *, sample_rate: int | None = None,
        model: str | None = None, hop_s: float | None = None,
        lyrics: str | None = None) -> TagScores:
    """The tags of a recording, with a tagger loaded once per name.

    Args:
        src: an audio file, a :class:`~cantata.types.Waveform`, or an array ``y``.
        sr: the array's sample rate.
        model: a shipped tagger's name, a checkpoint path, or ``"debug"`` (default: the
            shipped default tagger).
        hop_s: seconds between chunk starts (default: back to back).
        lyrics: the recording's lyrics, for a tagger with lyrics heads.

    Example:
        >>> cantata.tag("song.mp3", model="run/best.pt").ranked(top=3)   # doctest: +SKIP
    """
    key = model or ""
    if key not in _TAGGERS:
        _TAGGERS[key] = Tagger.from_pretrained(model)
    return _TAGGERS[key].tag(src, sr, sample_rate=sample_rate, hop_s=hop_s, lyrics=lyrics)


_TAGGERS: dict[str, Tagger] = {}
