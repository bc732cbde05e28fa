"""Time-stamped lyrics: a song and its lyrics text in, a time for every line and word.

Language-agnostic: the lyrics' syllables (:mod:`~cantata.lyrics.text`, hyphenation
dictionaries or vowel groups) are aligned by a monotonic dynamic program
(:mod:`~cantata.lyrics.align`) with the syllable evidence of the separated vocals
(:mod:`~cantata.lyrics.nuclei`) inside the singing regions. :class:`LyricsAligner` loads
the separator and the singing detector once; :func:`align_lyrics` is the one-call form;
:mod:`~cantata.lyrics.formats` writes JSON, LRC and SRT.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LyricsAligner", "LyricsAlignment", "LyricsError", "align_lyrics", "parse_lyrics"]


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("LyricsAligner", "LyricsAlignment", "LyricsError", "align_lyrics"):
        from cantata.lyrics import api

        return getattr(api, name)
    if name == "parse_lyrics":
        from cantata.lyrics.text import parse_lyrics

        return parse_lyrics
    raise AttributeError(f"module 'cantata.lyrics' has no attribute {name!r}")
