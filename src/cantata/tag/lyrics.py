"""Lyrics for tagging: reading a recording's lyrics, embedding them offline, per-tag text
heads, and their late fusion with the audio scores.

**Late fusion (built).** A tagger checkpoint may carry ``meta["lyrics_heads"]``
(:meth:`LyricsHeads.to_meta`): for some of its tags a logistic head over the standardised
256-d ``wordllama`` embedding of the lyrics, with an F1-optimal threshold, fitted by
:func:`fit_lyrics_heads` on recordings with known tags and lyrics. ``Tagger.tag(src,
lyrics=TEXT)`` then scores each such tag as the mean of the audio score and the text score,
present when that mean reaches the mean of the two thresholds (:func:`fuse`); other tags,
and any recording without lyrics (an instrumental), keep the audio's scores. ``cantata tag
--lyrics`` reads the ``.txt`` beside each input (:func:`lyrics_beside`).

**Joint fusion (planned; needs ``TaggerConfig.text_dim`` in ``cantata.models.tagger``).**
Measured better where a tag needs both modalities (``bench/tag_lyrics_fusion.py``,
docs/tagging.md). The pieces, in order:

1. ``TaggerConfig.text_dim: int = 0`` (0: audio only, the checkpoints of today) and, when it
   is positive, a text branch ``Linear(text_dim, 64) + ReLU`` whose output is concatenated
   with the dense layer's before the per-tag heads; ``forward(mel, text=None)`` with
   ``text`` (batch, text_dim), zeros when a recording has no lyrics.
2. Training: each item's lyrics from the labels file's ``lyrics`` column, else the ``.txt``
   beside its audio (:func:`lyrics_for`); embedded once per recording before training
   (:func:`text_inputs`: a zero row for none) and given to every chunk of it; lyric dropout
   (the zero row for a random 30 % of the chunks of recordings with lyrics) so the heads
   also learn to tag instrumentals from audio alone.
3. Inference: ``Tagger.tag(src, lyrics=...)`` embeds the lyrics once and passes the same row
   with every chunk; ``cantata tag --lyrics``, the ``tag`` analyzer (the ``.txt`` beside the
   track) and ``POST /v1/tag`` (a ``lyrics`` form field) pass it on.
4. Export: a two-input ONNX plan (log-mel chunks, text embedding), its sidecar naming the
   text encoder.

The text encoder is ``wordllama`` (MIT; its weights ship inside the PyPI wheel, loaded with
downloads disabled): ``pip install 'cantata[lyrics]'``. It is imported on first use only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cantata.errors import CantataError, ConfigError
from cantata.tag.postprocess import best_f1_threshold

PathLike = str | os.PathLike[str]
#: the width of wordllama's default embedding (``l2_supercat``)
TEXT_DIM = 256
#: what a checkpoint's lyrics heads name their encoder
ENCODER = "wordllama"


class TextEncoder(Protocol):
    """What embeds lyrics: ``embed(texts) -> (len(texts), dim)`` (wordllama's interface)."""

    def embed(self, texts: list[str]) -> Any: ...


def read_lyrics(path: PathLike) -> str:
    """The text of a lyrics file (UTF-8, a byte-order mark dropped).

    Raises:
        CantataError: the file is missing, unreadable or not UTF-8 text.
    """
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise CantataError(f"{path}: no such lyrics file") from err
    except UnicodeDecodeError as err:
        raise CantataError(f"{path}: lyrics must be UTF-8 text ({err.reason} at byte "
                           f"{err.start})") from err
    except OSError as err:
        raise CantataError(f"{path}: cannot read the lyrics ({err.strerror})") from err


def lyrics_beside(audio_path: PathLike) -> str | None:
    """The lyrics in the ``.txt`` beside an audio file with the same stem
    (``song.mp3`` → ``song.txt``); None when there is none or it holds only whitespace.

    Raises:
        CantataError: the ``.txt`` exists but cannot be read as UTF-8 text.
    """
    path = Path(audio_path).with_suffix(".txt")
    if not path.is_file():
        return None
    return read_lyrics(path).strip() or None


def lyrics_for(audio_path: PathLike, given: str | None = None) -> str | None:
    """A recording's lyrics: ``given`` (a labels file's ``lyrics`` column) when not blank,
    else the ``.txt`` beside the audio, else None."""
    if given is not None and given.strip():
        return given.strip()
    return lyrics_beside(audio_path)


def wordllama_encoder() -> TextEncoder:
    """wordllama's default model, loaded once, offline (its weights are in its wheel).

    Raises:
        CantataError: wordllama is not installed.
    """
    global _ENCODER
    if _ENCODER is None:
        try:
            import wordllama
            from wordllama import WordLlama
        except ImportError as err:
            raise CantataError("lyrics need the wordllama package: pip install "
                               "'cantata[lyrics]'") from err
        _ENCODER = WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                  disable_download=True)
    return _ENCODER


_ENCODER: TextEncoder | None = None


def embed_lyrics(texts: Sequence[str], encoder: TextEncoder | None = None) -> np.ndarray:
    """(len(texts), dim) float64 embeddings of lyrics (default encoder: wordllama)."""
    encoder = encoder or wordllama_encoder()
    vectors = np.asarray(encoder.embed(list(texts)), np.float64)
    return vectors.reshape(len(texts), -1)


def text_inputs(texts: Sequence[str | None], encoder: TextEncoder | None = None, *,
                dim: int = TEXT_DIM) -> tuple[np.ndarray, np.ndarray]:
    """A joint-fusion net's text input: (len(texts), dim) float32 embeddings, a zero row
    where a recording has no lyrics, and (len(texts),) bool, which have them."""
    has = np.array([bool(t and t.strip()) for t in texts], bool)
    rows = np.zeros((len(texts), dim), np.float32)
    if has.any():
        rows[has] = embed_lyrics([t for t in texts if t and t.strip()], encoder)
    return rows, has


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


@dataclass(frozen=True)
class LyricsHeads:
    """Per-tag logistic heads over a standardised text embedding.

    Attributes:
        tags: the tags they score.
        mean, std: (dim,) the embedding's standardisation, from the fitting data.
        weights: (tags, dim) and bias (tags,): each tag's logistic head.
        thresholds: (tags,) each head's F1-optimal threshold on the fitting data.
        encoder: the text encoder the embeddings came from.
    """

    tags: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    thresholds: np.ndarray
    encoder: str = ENCODER

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, tags) probabilities of (n, dim) embeddings (one (dim,) row: (tags,)).

        Raises:
            ConfigError: embeddings of another width.
        """
        x = np.asarray(embeddings, np.float64)
        if x.shape[-1] != self.dim:
            raise ConfigError(f"lyrics heads take {self.dim}-d text embeddings, got "
                              f"{x.shape[-1]}-d")
        return _sigmoid(((x - self.mean) / self.std) @ self.weights.T + self.bias)

    def to_meta(self) -> dict[str, Any]:
        """Plain lists and numbers, for a checkpoint's ``meta["lyrics_heads"]``."""
        return {"encoder": self.encoder, "dim": self.dim, "tags": list(self.tags),
                "mean": self.mean.tolist(), "std": self.std.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias.tolist(),
                "thresholds": self.thresholds.tolist()}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any], model_tags: Sequence[str]) -> LyricsHeads:
        """Heads from a checkpoint's ``meta["lyrics_heads"]``, for a tagger of
        ``model_tags``.

        Raises:
            ConfigError: a missing field, shapes that disagree, a tag the tagger lacks.
        """
        try:
            tags = tuple(str(t) for t in meta["tags"])
            heads = cls(tags, np.asarray(meta["mean"], np.float64),
                        np.asarray(meta["std"], np.float64),
                        np.asarray(meta["weights"], np.float64).reshape(len(tags), -1),
                        np.asarray(meta["bias"], np.float64),
                        np.asarray(meta["thresholds"], np.float64),
                        str(meta.get("encoder", ENCODER)))
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"lyrics heads: malformed ({type(err).__name__}: {err})") from err
        unknown = [t for t in tags if t not in model_tags]
        if unknown:
            raise ConfigError(f"lyrics heads for tag(s) the tagger lacks: {', '.join(unknown)}")
        dim = heads.dim
        if (heads.std.shape != (dim,) or heads.weights.shape != (len(tags), dim)
                or heads.bias.shape != (len(tags),) or heads.thresholds.shape != (len(tags),)
                or int(meta.get("dim", dim)) != dim):
            raise ConfigError(f"lyrics heads: shapes disagree (mean {heads.mean.shape}, std "
                              f"{heads.std.shape}, weights {heads.weights.shape}, bias "
                              f"{heads.bias.shape}, thresholds {heads.thresholds.shape})")
        return heads


def fit_lyrics_heads(embeddings: np.ndarray, targets: Mapping[str, Sequence[bool]], *,
                     l2: float = 1.0, iterations: int = 50) -> LyricsHeads:
    """One logistic head per tag over standardised text embeddings, by Newton's method with
    an L2 penalty ``l2`` (not on the bias); each head's threshold F1-optimal on the same data.

    Args:
        embeddings: (n, dim) the recordings' lyrics embeddings (:func:`embed_lyrics`).
        targets: tag -> (n,) whether each recording has the tag.

    Raises:
        ConfigError: no tag, shapes that disagree, non-finite embeddings, or a tag without
            both positive and negative recordings.
    """
    x = np.asarray(embeddings, np.float64)
    if x.ndim != 2 or len(x) < 2 or not targets:
        raise ConfigError(f"fit_lyrics_heads: need (n >= 2, dim) embeddings and a tag, got "
                          f"{x.shape} and {len(targets)} tag(s)")
    if not np.isfinite(x).all():
        raise ConfigError("fit_lyrics_heads: the embeddings hold NaN or infinity")
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-8] = 1.0  # a constant dimension stays 0
    design = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    penalty = np.full(design.shape[1], float(l2))
    penalty[-1] = 0.0
    rows, thresholds = [], []
    for tag, values in targets.items():
        y = np.asarray(values, bool)
        if y.shape != (len(x),):
            raise ConfigError(f"fit_lyrics_heads: {tag!r} has {y.shape} targets for "
                              f"{len(x)} embeddings")
        if y.all() or not y.any():
            raise ConfigError(f"fit_lyrics_heads: {tag!r} needs recordings with and without "
                              f"it ({int(y.sum())} of {len(y)} have it)")
        w = _newton(design, y.astype(np.float64), penalty, iterations)
        rows.append(w)
        thresholds.append(best_f1_threshold(_sigmoid(design @ w), y)[0])
    weights = np.array(rows)
    return LyricsHeads(tuple(targets), mean, std, weights[:, :-1], weights[:, -1],
                       np.array(thresholds))


def _newton(design: np.ndarray, y: np.ndarray, penalty: np.ndarray,
            iterations: int) -> np.ndarray:
    """Weights minimising the log-loss plus ``penalty · w² / 2``."""
    w = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = _sigmoid(design @ w)
        grad = design.T @ (p - y) + penalty * w
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(w)), grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def fuse(tags: Sequence[str], scores: np.ndarray, thresholds: np.ndarray,
         heads: LyricsHeads, embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Late fusion: (scores, thresholds) of every tag, where each tag the heads score gets
    the mean of its audio score and its text score, and the mean of the two thresholds
    (present when the two margins sum to at least 0); the other tags stay as they were.

    Args:
        tags, scores, thresholds: the tagger's tags and a recording's audio scores and
            calibrated thresholds, (tags,) each.
        embedding: (dim,) the recording's lyrics embedding.
    """
    fused, limits = np.array(scores, np.float64), np.array(thresholds, np.float64)
    text = heads.scores(np.asarray(embedding, np.float64).reshape(1, -1))[0]
    for j, tag in enumerate(heads.tags):
        i = tags.index(tag)
        fused[i] = (fused[i] + text[j]) / 2
        limits[i] = (limits[i] + heads.thresholds[j]) / 2
    return fused, limits
