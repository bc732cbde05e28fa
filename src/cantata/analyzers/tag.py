"""The ``tag`` analyzer: genre, mood, instrument and voice tags of each track.

What it stores per track (the contract the catalog and the track page read):
``summary``: ``{"tags": [{"tag", "score", "present"}, ...]}`` sorted by score (every tag
of the model), ``present`` from the tag's calibrated threshold, and ``"present": [tag,
...]``, the tags present, by score. One of ``cantata scan``'s default analyzers, with the
shipped ``tagger`` (``--analyzers ...,tag=CKPT`` runs another).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio, model_spec

VERSION = "1"


def resolve(model: str | None) -> AnalyzerSpec:
    """The spec of ``tag`` with a shipped model, a debug model or a checkpoint; None for
    the capability's default.

    Raises:
        ModelLoadError: an unknown name, a missing file, or no tagger shipped yet.
    """
    return model_spec("tag", VERSION, model)


def summary_of(scores: Any) -> dict[str, object]:
    """The stored summary of a :class:`~cantata.tag.TagScores`."""
    ranked = scores.ranked()
    return {"tags": ranked, "present": [t["tag"] for t in ranked if t["present"]]}


class TagAnalyzer(Analyzer):
    """Every tag's song score and decision as the summary (module docstring)."""

    name, version = "tag", VERSION

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        from cantata.tag.api import Tagger

        super().__init__(spec, files_dir=files_dir)
        self.tagger = Tagger.from_pretrained(spec.model)

    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        """Each track's tags; with a tagger that has lyrics heads, fused with the lyrics in
        the ``.txt`` beside the track, where there is one."""
        from cantata.tag.lyrics import lyrics_beside

        heads = self.tagger.lyrics_heads is not None
        return [self.result(summary=summary_of(self.tagger.tag(
            item.source, lyrics=lyrics_beside(item.path) if heads else None)))
            for item in items]


ANALYZER = TagAnalyzer
