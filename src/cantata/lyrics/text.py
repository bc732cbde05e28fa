"""Lyrics text → lines → words → syllable counts, in any language.

Lines are the text's non-empty lines; LRC time tags (``[01:02.03]``, ``<01:02.03>``), LRC
header tags (``[ar: ...]``) and section markers on a line of their own (``[Chorus]``) are
dropped. Words are split at white space; characters of scripts written without spaces
(Chinese, Japanese kana) are one word each. A word's syllables come from the language's
hyphenation dictionary (``pyphen``) and from its vowel groups, whichever finds more (a
dictionary splits conservatively: en ``singing`` stays whole); a language without a
dictionary uses the vowel groups alone.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: lyrics files looked for beside a song, in this order: <song stem>.txt, <song stem>.lrc
LYRICS_SUFFIXES = (".txt", ".lrc")
#: vowel letters (after stripping accents) of the Latin, Cyrillic and Greek scripts
VOWELS = frozenset("aeiouyæøœåаеёиоуыэюяіїєαεηιουω")
#: letters per syllable where a script's vowels are not written as letters (Arabic, Hebrew, ...)
LETTERS_PER_SYLLABLE = 2.5
_TIME_TAG = re.compile(r"[\[<]\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?[\]>]")
_HEADER_TAG = re.compile(r"^\[[a-zA-Z#]+:.*\]$")
_SECTION = re.compile(r"^[\[(][^\])]*[\])]$")


@dataclass(frozen=True)
class Word:
    """One word of the lyrics as written, and how many syllables it is sung on."""

    text: str
    syllables: int


@dataclass(frozen=True)
class Line:
    """One line of the lyrics: its text and its words."""

    text: str
    words: tuple[Word, ...]

    @property
    def syllables(self) -> int:
        return sum(w.syllables for w in self.words)


def parse_lyrics(text: str, language: str | None = None) -> list[Line]:
    """The sung lines of a lyrics text (plain or LRC), their words and syllable counts.

    ``language``: an ISO 639-1 code (``en``, ``de``, ``pt_BR``...) choosing the hyphenation
    dictionary; None or a language without one counts vowel groups (:func:`hyphenator`
    warns once about an unknown one).
    """
    count = syllable_counter(language)
    lines = []
    for raw in text.splitlines():
        line = " ".join(_TIME_TAG.sub(" ", raw).split())
        if not line or _HEADER_TAG.match(line) or _SECTION.match(line):
            continue
        words = tuple(Word(w, count(w)) for w in split_words(line))
        if words:
            lines.append(Line(line, words))
    return lines


def lyrics_beside(song: str | Path) -> Path | None:
    """The lyrics file beside a song: ``<stem>.txt``, else ``<stem>.lrc``, else None."""
    for suffix in LYRICS_SUFFIXES:
        path = Path(song).with_suffix(suffix)
        if path.is_file():
            return path
    return None


def split_words(line: str) -> list[str]:
    """The words of a line: white-space separated, each character of an unspaced script
    (CJK ideographs, kana) a word of its own."""
    words: list[str] = []
    for token in line.split():
        run = ""
        for ch in token:
            if _unspaced(ch):
                if run.strip():
                    words.append(run)
                words.append(ch)
                run = ""
            else:
                run += ch
        if run and (any(c.isalnum() for c in run) or not words):
            words.append(run)
        elif run:  # trailing punctuation after an unspaced character
            words[-1] += run
    return words


def _unspaced(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK UNIFIED IDEOGRAPH", "HIRAGANA", "KATAKANA", "CJK COMPATIBILITY"))


def syllable_counter(language: str | None):  # noqa: ANN201 (a callable str -> int)
    """``count(word) -> syllables`` (at least 1) for ``language``."""
    dictionary = hyphenator(language) if language else None
    english = bool(language) and language.lower().startswith("en")

    def count(word: str) -> int:
        letters = "".join(c for c in word.lower() if c.isalpha())
        if not letters:
            return 1
        groups = vowel_groups(letters, english=english)
        pieces = 0
        if dictionary is not None:
            pieces = sum(1 for p in dictionary.inserted(letters).split("-")
                         if vowel_groups(p, english=False))
        return max(1, groups, pieces)

    return count


def vowel_groups(letters: str, *, english: bool = False) -> int:
    """Runs of vowel letters; a Hangul block or an unspaced character is one syllable; a
    script without vowel letters counts :data:`LETTERS_PER_SYLLABLE` letters a syllable."""
    if all(_unspaced(c) or "\uac00" <= c <= "\ud7a3" for c in letters):
        return len(letters)
    bases = [unicodedata.normalize("NFD", c)[0] for c in letters]
    flags = [b in VOWELS for b in bases]
    if not any(flags) and not any(b.isascii() for b in bases):
        return max(1, round(len(bases) / LETTERS_PER_SYLLABLE))
    groups = sum(1 for i, f in enumerate(flags) if f and (i == 0 or not flags[i - 1]))
    if english and groups > 1 and len(bases) > 2 and bases[-1] == "e" \
            and not flags[-2] and bases[-2:] != ["l", "e"]:
        groups -= 1  # a silent final e: "time", "love" (not "little")
    return groups


@functools.cache
def hyphenator(language: str):  # noqa: ANN201 (pyphen.Pyphen or None)
    """The hyphenation dictionary of ``language`` (``pyphen``), or None with a warning."""
    import pyphen

    found = pyphen.language_fallback(language.replace("-", "_"))
    if found is None:
        log.warning("no hyphenation dictionary for language %r; counting vowel groups "
                    "instead (dictionaries: %s)", language, ", ".join(sorted(
                        {k.split("_")[0] for k in pyphen.LANGUAGES})))
        return None
    return pyphen.Pyphen(lang=found)
