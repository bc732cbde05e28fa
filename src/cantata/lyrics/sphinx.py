"""English word-level forced alignment with PocketSphinx (the optional ``lyrics-en`` extra).

PocketSphinx's US English acoustic model and pronouncing dictionary ship inside its PyPI
wheel, so nothing is downloaded. The agnostic aligner (:mod:`cantata.lyrics.align`) runs
first; its line times and the singing regions cut the vocal stem (16 kHz mono) into chunks
(:func:`chunks`: a new chunk at every new singing region and before :data:`MAX_CHUNK_S`),
and each chunk's words are force-aligned in it by the decoder, which places optional
silences between them. Words the dictionary lacks are spelled by rough letter rules
(:func:`spell`); words that cannot be spelled (digits, letters outside a–z) keep the
agnostic times, fitted between their aligned neighbours. A chunk the decoder cannot align
keeps the agnostic times too (logged).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cantata.lyrics.align import TimedLine, TimedWord

log = logging.getLogger(__name__)

#: the decoder's sample rate and frame step
RATE = 16000
FRAME_S = 0.01
#: a chunk is cut before it grows past this many seconds of agnostic line times
MAX_CHUNK_S = 20.0
#: audio taken before the first and after the last line (of the agnostic times)
PAD_S = 0.5
#: a word aligned in fewer frames than 3 a phone plus this was squeezed in: unreliable
SQUEEZED_FRAMES = 12
#: the decoder's settings: no pruning and no lattice pass (with its defaults most sung
#: phrases find no path: sung vowels are far from the speech it was trained on; a linear
#: grammar keeps the full search small)
SEARCH = {"beam": 0.0, "wbeam": 0.0, "pbeam": 0.0, "maxhmmpf": -1, "bestpath": False}

_DIGRAPHS = {
    "ee": "IY", "ea": "IY", "ie": "IY", "oo": "UW", "ew": "UW", "ue": "UW", "ou": "AW",
    "ow": "OW", "oa": "OW", "oh": "OW", "ai": "EY", "ay": "EY", "ei": "EY", "ah": "AA",
    "aa": "AA", "au": "AO", "aw": "AO", "oi": "OY", "oy": "OY", "sh": "SH", "ch": "CH",
    "th": "TH", "ng": "NG", "ph": "F", "ck": "K", "qu": "K W", "wh": "W",
}
_LETTERS = {
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH",
    "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S",
    "y": "Y", "z": "Z",
}
_VOWELS = set("aeiouy")


def available() -> bool:
    """Whether the ``pocketsphinx`` package is installed."""
    return importlib.util.find_spec("pocketsphinx") is not None


def is_english(language: str | None) -> bool:
    """``en``, ``en_US``, ``en-GB``..."""
    return bool(language) and re.split(r"[-_]", language.lower())[0] == "en"


def normalize(word: str) -> str:
    """The dictionary form of a lyrics word: lower case, letters and inner apostrophes."""
    return re.sub(r"[^\w']", "", word.lower().replace("’", "'")).strip("'_")


def spell(word: str) -> str | None:
    """ARPABET phones of a plain a–z word by rough letter rules (digraphs first, doubled
    letters once, a silent final e), or None for other words."""
    if not re.fullmatch(r"[a-z']+", word):
        return None
    letters = word.replace("'", "")
    if (len(letters) > 2 and letters.endswith("e") and letters[-2] not in _VOWELS
            and _VOWELS & set(letters[:-1])):
        letters = letters[:-1]
    phones: list[str] = []
    i = 0
    while i < len(letters):
        pair = letters[i:i + 2]
        if pair in _DIGRAPHS:
            phones.append(_DIGRAPHS[pair])
            i += 2
            continue
        ch = letters[i]
        if i and ch == letters[i - 1] and ch not in _VOWELS:
            i += 1
            continue
        phones.append("IY" if ch == "y" and i == len(letters) - 1 and i else _LETTERS[ch])
        i += 1
    return " ".join(phones) or None


@dataclass(frozen=True)
class Chunk:
    """Lines ``first`` to ``last`` (inclusive) of the lyrics, aligned in ``start``–``end``
    seconds of the vocal stem."""

    first: int
    last: int
    start: float
    end: float


def chunks(lines: Sequence[TimedLine], regions: Sequence[tuple[float, float]],
           duration_s: float, *, max_s: float = MAX_CHUNK_S, pad_s: float = PAD_S
           ) -> list[Chunk]:
    """The lines (with their agnostic times) grouped into chunks: a new chunk where a line
    falls in another singing region than the one before, or where the chunk would span
    more than ``max_s``; cut halfway between the regions (or between the lines)."""
    if not lines:
        return []
    where = [_region_of(ln, regions) for ln in lines]
    groups: list[list[int]] = [[0]]
    for i in range(1, len(lines)):
        first = lines[groups[-1][0]]
        if where[i] != where[i - 1] or lines[i].end - first.start > max_s:
            groups.append([])
        groups[-1].append(i)
    starts = [max(0.0, min(lines[0].start, _bound(regions, where[0], 0)) - pad_s)]
    for prev, nxt in zip(groups, groups[1:], strict=False):
        a, b = lines[prev[-1]].end, lines[nxt[0]].start
        if where[prev[-1]] != where[nxt[0]] and regions:
            a = max(a, regions[where[prev[-1]]][1])
            b = max(a, min(b, regions[where[nxt[0]]][0]))
        starts.append(max(starts[-1] + FRAME_S, (a + b) / 2))
    end = max(lines[-1].end, _bound(regions, where[-1], 1)) + pad_s
    ends = [*starts[1:], max(starts[-1] + FRAME_S, min(duration_s, end))]
    return [Chunk(g[0], g[-1], round(s, 3), round(e, 3))
            for g, s, e in zip(groups, starts, ends, strict=True)]


def _region_of(line: TimedLine, regions: Sequence[tuple[float, float]]) -> int:
    """The singing region holding the line's middle, else the nearest (0 without any)."""
    if not regions:
        return 0
    mid = (line.start + line.end) / 2
    gaps = [0.0 if a <= mid <= b else min(abs(mid - a), abs(mid - b)) for a, b in regions]
    return int(np.argmin(gaps))


def _bound(regions: Sequence[tuple[float, float]], i: int, side: int) -> float:
    """Region ``i``'s start (side 0) or end (1); without regions, nothing widens the chunk."""
    if not regions:
        return np.inf if side == 0 else -np.inf
    return regions[i][side]


class SphinxAligner:
    """PocketSphinx's English decoder in alignment mode, loaded once."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(lm=None, loglevel="FATAL", **SEARCH)
        self._spelled: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def refine(self, mono: np.ndarray, agnostic: Sequence[TimedLine],
               regions: Sequence[tuple[float, float]]) -> tuple[list[TimedLine], list[str]]:
        """The ``agnostic`` lines with their word times refined by forced alignment in
        ``mono`` (the vocal stem, 16 kHz) chunk by chunk, and warnings for the chunks left
        agnostic. One call at a time per aligner (a lock; the decoder is not thread-safe)."""
        with self._lock:
            return self._refine(mono, agnostic, regions)

    def _refine(self, mono: np.ndarray, agnostic: Sequence[TimedLine],
                regions: Sequence[tuple[float, float]]) -> tuple[list[TimedLine], list[str]]:
        pcm = (np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16)
        out: list[TimedLine] = []
        failed = []
        for chunk in chunks(agnostic, regions, mono.size / RATE):
            lines = agnostic[chunk.first:chunk.last + 1]
            words = [w for ln in lines for w in ln.words]
            piece = pcm[round(chunk.start * RATE):round(chunk.end * RATE)]
            try:
                times = self._align(piece, [w.text for w in words])
            except RuntimeError as err:
                log.warning("pocketsphinx: chunk %.2f-%.2f s: %s; agnostic times kept",
                            chunk.start, chunk.end, err)
                failed.append(f"{chunk.start:.1f}-{chunk.end:.1f} s")
                out.extend(lines)
                continue
            timed = fit(words, [None if t is None else (chunk.start + t[0], chunk.start + t[1])
                                for t in times])
            k = 0
            for ln in lines:
                own = tuple(timed[k:k + len(ln.words)])
                k += len(own)
                out.append(TimedLine(ln.text, own[0].start, own[-1].end, own))
        warnings = [] if not failed else [
            f"PocketSphinx could not align {len(failed)} stretch(es) of the song "
            f"({', '.join(failed)}); the agnostic aligner's times are kept there"]
        return out, warnings

    def _align(self, pcm: np.ndarray, words: Sequence[str]) -> list[tuple[float, float] | None]:
        """(start_s, end_s) in the chunk of each word, None for words not aligned.

        Raises:
            RuntimeError: the decoder found no alignment (or refused the text).
        """
        tokens = [self._token(w) for w in words]
        spoken = [t for t in tokens if t is not None]
        if not spoken:
            return [None] * len(words)
        self.decoder.set_align_text(" ".join(spoken))
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        segments = [(re.sub(r"\(\d+\)$", "", s.word), s.start_frame, s.end_frame)
                    for s in self.decoder.seg() or () if not s.word.startswith(("<", "["))]
        if [s[0] for s in segments] != spoken:
            raise RuntimeError(f"no alignment ({len(segments)} of {len(spoken)} words)")
        it = iter(segments)
        return [None if t is None else self._reliable(next(it)) for t in tokens]

    def _reliable(self, segment: tuple[str, int, int]) -> tuple[float, float] | None:
        """The segment's (start_s, end_s), or None where the decoder squeezed the word into
        about its shortest duration (3 frames a phone): the audio did not match it."""
        word, first, last = segment
        phones = len((self.decoder.lookup_word(word) or "").split())
        if last + 1 - first < 3 * phones + SQUEEZED_FRAMES:
            return None
        return first * FRAME_S, (last + 1) * FRAME_S

    def _token(self, word: str) -> str | None:
        """The word as the dictionary knows it (added with :func:`spell`'s phones if it did
        not), or None if it cannot be spelled."""
        token = normalize(word)
        if not token:
            return None
        if token not in self._spelled:
            phones = None if self.decoder.lookup_word(token) is None else ""
            if phones is None and (phones := spell(token)) is not None:
                self.decoder.add_word(token, phones, True)
            self._spelled[token] = phones
        return None if self._spelled[token] is None else token


def fit(words: Sequence[TimedWord], times: Sequence[tuple[float, float] | None]
        ) -> list[TimedWord]:
    """The words at their aligned ``times``; a word without (None) keeps its agnostic
    times, fitted between the aligned words before and after it."""
    out: list[TimedWord] = []
    for i, (word, t) in enumerate(zip(words, times, strict=True)):
        if t is not None:
            out.append(TimedWord(word.text, round(t[0], 3), round(t[1], 3)))
            continue
        lo = out[-1].end if out else -np.inf
        hi = next((u[0] for u in times[i + 1:] if u is not None), np.inf)
        start = float(np.clip(word.start, lo, max(lo, hi)))
        end = float(np.clip(word.end, start, max(start, hi)))
        out.append(TimedWord(word.text, round(start, 3), round(end, 3)))
    return out


def sphinx_aligner() -> SphinxAligner:
    """The shared :class:`SphinxAligner` (loaded on first use)."""
    with _SHARED_LOCK:
        if "aligner" not in _SHARED:
            _SHARED["aligner"] = SphinxAligner()
        return _SHARED["aligner"]


_SHARED: dict[str, SphinxAligner] = {}
_SHARED_LOCK = threading.Lock()
