"""The written forms of an alignment: JSON, LRC (enhanced LRC with word times) and SRT."""

from __future__ import annotations

import json
from typing import Any


def lrc_time(seconds: float) -> str:
    """``mm:ss.xx`` (minutes may pass 99)."""
    centis = max(0, round(seconds * 100))
    return f"{centis // 6000:02d}:{centis % 6000 // 100:02d}.{centis % 100:02d}"


def srt_time(seconds: float) -> str:
    """``hh:mm:ss,mmm``."""
    millis = max(0, round(seconds * 1000))
    return (f"{millis // 3_600_000:02d}:{millis % 3_600_000 // 60_000:02d}:"
            f"{millis % 60_000 // 1000:02d},{millis % 1000:03d}")


def to_lrc(result: dict[str, Any], *, words: bool = False) -> str:
    """One ``[mm:ss.xx]text`` line per line; with ``words``, enhanced LRC:
    ``[mm:ss.xx]<mm:ss.xx>word <mm:ss.xx>word ... <mm:ss.xx>`` (the last tag is the line's
    end)."""
    out = []
    for line in result["lines"]:
        if words:
            body = " ".join(f"<{lrc_time(w['start'])}>{w['text']}" for w in line["words"])
            out.append(f"[{lrc_time(line['start'])}]{body} <{lrc_time(line['end'])}>")
        else:
            out.append(f"[{lrc_time(line['start'])}]{line['text']}")
    return "\n".join(out) + "\n"


def to_srt(result: dict[str, Any]) -> str:
    """One cue per line: number, ``start --> end``, the text, a blank line."""
    return "".join(f"{i}\n{srt_time(line['start'])} --> {srt_time(line['end'])}\n"
                   f"{line['text']}\n\n" for i, line in enumerate(result["lines"], 1))


def render(fmt: str, result: dict[str, Any], *, words: bool = False) -> str:
    """The text of one alignment (:meth:`LyricsAlignment.to_dict`) in ``fmt``."""
    if fmt == "json":
        return json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    if fmt == "srt":
        return to_srt(result)
    return to_lrc(result, words=words)
