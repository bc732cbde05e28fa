"""The ``lyrics`` analyzer: line and word times of a track whose lyrics sit beside it.

It runs only on tracks with a ``<track stem>.txt`` (or ``.lrc``) file beside them; other
tracks get a result at once, ``summary = {"lyrics_file": None}``, without separating
anything (so the analyzer is cheap to include in a scan). What it stores per aligned track:
``regions`` = one per line, labelled with the line's text; ``summary`` = ``lyrics_file``,
``language`` (None), ``method`` (``aligned``, ``spread`` or ``sphinx``), ``lines``, ``warnings`` and
``words``: ``[[start_s, end_s, text], ...]`` of every word in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio, model_spec
from cantata.errors import CantataError, ModelLoadError
from cantata.lyrics.text import lyrics_beside
from cantata.types import Segment

VERSION = "1"
MODELS = ("default", "debug")


def resolve(model: str | None) -> AnalyzerSpec:
    """The spec of ``lyrics``: the shipped separator and singing detector (None or
    ``"default"``) or the debug ones (``"debug"``); its model version names both weights.

    Raises:
        ModelLoadError: another name, or shipped weights not there yet.
    """
    name = model or "default"
    if name not in MODELS:
        raise ModelLoadError(f"lyrics: unknown model {name!r} (available: {', '.join(MODELS)})")
    from cantata.lyrics.api import DEBUG_MODELS, DEFAULT_MODELS

    models = DEBUG_MODELS if name == "debug" else DEFAULT_MODELS
    parts = [model_spec("separate", "", models["separator"]).model_version,
             model_spec("detect", "", models["detector"]).model_version]
    return AnalyzerSpec("lyrics", name, VERSION, "+".join(parts))


class LyricsAnalyzer(Analyzer):
    """Line regions and word times of tracks with lyrics beside them (module docstring)."""

    name, version = "lyrics", VERSION

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        super().__init__(spec, files_dir=files_dir)
        self._aligner = None  # loaded at the first track with lyrics

    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        return [self._one(item) for item in items]

    def _one(self, item: TrackAudio) -> Result:
        lyrics = lyrics_beside(item.path)
        if lyrics is None:
            return self.result(summary={"lyrics_file": None})
        try:
            text = lyrics.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            raise CantataError(f"{lyrics}: cannot read the lyrics as UTF-8 text ({err})") \
                from err
        if self._aligner is None:
            from cantata.lyrics.api import LyricsAligner

            self._aligner = LyricsAligner.from_pretrained(self.spec.model)
        found = self._aligner.align(item.source, text)
        regions = [Segment(line.start, max(line.end, line.start + 0.01), line.text)
                   for line in found.lines]
        words = [[w.start, w.end, w.text] for line in found.lines for w in line.words]
        return self.result(summary={
            "lyrics_file": str(lyrics), "language": found.language, "method": found.method,
            "lines": len(found.lines), "warnings": found.warnings, "words": words},
            regions=regions)


ANALYZER = LyricsAnalyzer
