"""The lyrics alignment API: a song and its lyrics text in, a time for every line and word.

The vocals are separated (the ``separate`` capability's API), the singing is found in the
song (the ``detect`` capability's API), both loaded through the capability registry so this
package imports neither; then the lyrics' syllables are aligned with the syllable evidence
of the vocal stem (:mod:`cantata.lyrics.nuclei`, :mod:`cantata.lyrics.align`).

What cannot be aligned still gets times, with a warning: lyrics much longer than the
singing, or a song where no singing is found, are spread evenly over the singing (or the
voice's activity, or the whole song). Only empty lyrics and unreadable audio are errors.

Example:
    >>> aligner = LyricsAligner.from_pretrained()                    # doctest: +SKIP
    >>> result = aligner.align("song.mp3", open("song.txt").read())  # doctest: +SKIP
    >>> result.lines[0].start, result.lines[0].words[0]              # doctest: +SKIP
    (12.34, TimedWord(text='Every', start=12.34, end=12.71))
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cantata import audio
from cantata.capabilities import capability, load
from cantata.errors import CantataError, ModelLoadError
from cantata.lyrics.align import TimedLine, align, singing_mask, spread
from cantata.lyrics.nuclei import RATE, evidence
from cantata.lyrics.text import parse_lyrics
from cantata.types import Source, Waveform, as_source

log = logging.getLogger(__name__)

__all__ = ["LyricsAligner", "LyricsAlignment", "LyricsError", "align_lyrics"]

#: the models used by default, and those of ``from_pretrained("debug")``
DEFAULT_MODELS = {"separator": "separator", "detector": "singing"}
DEBUG_MODELS = {"separator": "debug", "detector": "debug"}
#: more syllables a second of singing than this is "lyrics much longer than the singing"
MAX_SYLLABLES_PER_S = 8.0
#: a region of the voice's own activity (no singing detected) is at least this long
MIN_ACTIVE_S = 0.3
#: the alignment methods, and whether ``auto`` uses PocketSphinx for English (when it is
#: installed): set by what bench/lyrics_align.py measured (docs/lyrics.md)
METHODS = ("auto", "agnostic", "sphinx")
AUTO_SPHINX = True


class LyricsError(CantataError):
    """The lyrics cannot be aligned at all (no words in them)."""


@dataclass(frozen=True)
class LyricsAlignment:
    """The lines and words of the lyrics with their times in one song.

    Attributes:
        lines: every line of the lyrics, each with every word, in order.
        language: the language asked for (None: vowel groups counted the syllables).
        file: the song's file, or None for a waveform.
        method: ``"aligned"`` (syllables matched to the vocals), ``"sphinx"`` (then
            English forced alignment by PocketSphinx) or ``"spread"`` (evenly
            over the singing, the best that could be done; see ``warnings``).
        singing: the singing regions used, (start_s, end_s) pairs.
        warnings: what went wrong and what was done instead.
    """

    lines: list[TimedLine]
    language: str | None = None
    file: str | None = None
    method: str = "aligned"
    singing: list[tuple[float, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """``{"file", "language", "lines": [{"text", "start", "end", "words": [{"text",
        "start", "end"}, ...]}, ...]}``."""
        return {"file": self.file, "language": self.language, "lines": [
            {"text": ln.text, "start": ln.start, "end": ln.end,
             "words": [{"text": w.text, "start": w.start, "end": w.end} for w in ln.words]}
            for ln in self.lines]}


class LyricsAligner:
    """A separator and a singing detector, and the syllable aligner between them."""

    def __init__(self, separator: Any, detector: Any, *, name: str = "") -> None:
        self.separator, self.detector, self.name = separator, detector, name

    @classmethod
    def from_pretrained(cls, name: str | None = None, *, separator: str | None = None,
                        detector: str | None = None) -> LyricsAligner:
        """The shipped separator and singing detector (``name`` None), or the tiny random
        ones (``"debug"``, for tests); ``separator``/``detector`` name either model
        (``cantata models``) or a checkpoint.

        Raises:
            ModelLoadError: an unknown name or missing weights.
        """
        models = dict(DEBUG_MODELS if name == "debug" else DEFAULT_MODELS)
        if name not in (None, "debug", "default"):
            raise ModelLoadError(f"lyrics: unknown model {name!r} (available: default, debug)")
        models["separator"] = separator or models["separator"]
        models["detector"] = detector or models["detector"]
        sep = load(capability("separate").api).from_pretrained(models["separator"])
        det = load(capability("detect").api).from_pretrained(models["detector"])
        return cls(sep, det, name=f"{models['separator']}+{models['detector']}")

    def align(self, song: Source, lyrics: str, *, language: str | None = None,
              sr: int | None = None, method: str = "auto") -> LyricsAlignment:
        """Time every line and word of ``lyrics`` (plain text or LRC) in ``song`` (a file,
        a :class:`Waveform`, or an array with its rate ``sr``). ``method``: ``"agnostic"``
        (the syllable aligner), ``"sphinx"`` (English forced alignment of its result, with
        the ``pocketsphinx`` package) or ``"auto"`` (:func:`use_sphinx`).

        Raises:
            LyricsError: the lyrics hold no words; ``sphinx`` without the package or for
                another language than English; an unknown method.
            AudioLoadError: the song cannot be read.
        """
        sphinx = use_sphinx(method, language)
        src = as_source(song, sr)
        file = None if isinstance(src, Waveform) else os.fspath(src)
        lines = parse_lyrics(lyrics, language)
        if not lines:
            raise LyricsError(f"{file or 'lyrics'}: the lyrics hold no words to align")
        wav = src if isinstance(src, Waveform) else audio.load(src)
        vocals = self.separator.separate(wav)["vocals"]
        mono = audio.resample(vocals.to_mono(), RATE).samples[0]
        ev = evidence(mono, RATE)
        warnings: list[str] = []
        regions = self._singing(wav)
        if not regions:
            regions = active_regions(ev.activity, ev.hop_s)
            warnings.append("no singing found; " + (
                "aligned to where the separated vocals sound" if regions else
                "the lyrics are spread evenly over the whole song"))
        sung_s = sum(b - a for a, b in regions)
        n_syllables = sum(ln.syllables for ln in lines)
        silent = regions and not (singing_mask(regions, len(ev), ev.hop_s)
                                  * ev.activity > 0.5).any()
        if silent:
            warnings.append("the separated vocals are silent where the singing was found; "
                            "the lyrics are spread evenly over the singing")
        elif regions and n_syllables > MAX_SYLLABLES_PER_S * sung_s:
            warnings.append(f"the lyrics ({n_syllables} syllables) are much longer than the "
                            f"singing ({sung_s:.1f} s); they are spread evenly over it")
        if silent or n_syllables > MAX_SYLLABLES_PER_S * sung_s:
            timed, how = spread(lines, regions, wav.duration_s), "spread"
        else:
            timed, how = align(lines, ev, regions), "aligned"
            if sphinx:
                from cantata.lyrics.sphinx import sphinx_aligner

                timed, failed = sphinx_aligner().refine(mono, timed, regions)
                warnings += failed
                how = "sphinx"
        for warning in warnings:
            log.warning("%s: %s", file or "lyrics", warning)
        return LyricsAlignment(timed, language, file, how, regions, warnings)

    def _singing(self, wav: Waveform) -> list[tuple[float, float]]:
        """The singing detector's vocal regions of the song."""
        return [(s.start_s, s.end_s) for s in self.detector.detect(wav)
                if s.label in ("vocal", "singing", "speech")]


def active_regions(activity: np.ndarray, hop_s: float) -> list[tuple[float, float]]:
    """Runs of frames where the voice sounds (activity over 0.5), at least
    :data:`MIN_ACTIVE_S` long."""
    on = np.concatenate([[0], (activity > 0.5).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(on))
    return [(round(a * hop_s, 3), round(b * hop_s, 3))
            for a, b in zip(edges[::2], edges[1::2], strict=True)
            if (b - a) * hop_s >= MIN_ACTIVE_S]


def use_sphinx(method: str, language: str | None) -> bool:
    """Whether ``method`` (``auto``, ``agnostic``, ``sphinx``) means PocketSphinx's forced
    alignment for ``language``: ``auto`` does when :data:`AUTO_SPHINX`, the language is
    English and the package is installed.

    Raises:
        LyricsError: an unknown method; ``sphinx`` without the package or not for English.
    """
    from cantata.lyrics.sphinx import available, is_english

    if method not in METHODS:
        raise LyricsError(f"unknown alignment method {method!r} (choose from "
                          f"{', '.join(METHODS)})")
    if method == "sphinx" and not is_english(language):
        raise LyricsError(f"method sphinx aligns English lyrics only (language en), not "
                          f"{language or 'an unnamed language'}")
    if method == "sphinx" and not available():
        raise LyricsError("method sphinx needs the pocketsphinx package: "
                          "pip install 'cantata[lyrics-en]'")
    return method == "sphinx" or (method == "auto" and AUTO_SPHINX and is_english(language)
                                  and available())


def align_lyrics(song: Source, lyrics: str, language: str | None = None, *,
                 sr: int | None = None, model: str | None = None,
                 method: str = "auto") -> LyricsAlignment:
    """Time-stamped lines and words of ``lyrics`` in ``song``, with the shipped models
    (loaded once; ``model="debug"`` for the tiny random ones).

    Example:
        >>> text = open("song.txt").read()                                # doctest: +SKIP
        >>> cantata.align_lyrics("song.mp3", text, "en").lines[0].start   # doctest: +SKIP
        12.34
    """
    key = model or "default"
    if key not in _ALIGNERS:
        _ALIGNERS[key] = LyricsAligner.from_pretrained(model)
    return _ALIGNERS[key].align(song, lyrics, language=language, sr=sr, method=method)


_ALIGNERS: dict[str, LyricsAligner] = {}
