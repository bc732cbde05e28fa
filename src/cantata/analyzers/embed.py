"""The ``embed`` analyzer: embeddings of every segment of each track, for query by example."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio, model_spec
from cantata.errors import ModelLoadError

VERSION = "1"
#: segments overlap by half: hop = segment_s * HOP_FRACTION
HOP_FRACTION = 0.5


def resolve(model: str | None) -> AnalyzerSpec:
    """The spec of ``embed`` with one of the capability's models (``cantata models``),
    a debug model, or a checkpoint; None for the default.

    Raises:
        ModelLoadError: an unknown name, a missing file, or shipped weights not there yet.
    """
    return model_spec("embed", VERSION, model)


class EmbedAnalyzer(Analyzer):
    """Embeddings of ``segment_s``-long segments every ``segment_s / 2`` (the last one
    ends with the track), stored with the result; ``summary``: ``{"segments", "dim",
    "segment_s"}``. Files too long to hold are decoded from their path."""

    name, version = "embed", VERSION

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        from cantata.embed.api import Embedder

        super().__init__(spec, files_dir=files_dir)
        self.embedder = Embedder.from_pretrained(spec.model)
        if self.embedder.model_version != spec.model_version:
            raise ModelLoadError(f"embed: {spec.model} loaded as {self.embedder.model_version}"
                                 f", expected {spec.model_version}")

    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        out = []
        hop_s = self.embedder.segment_s * HOP_FRACTION
        for item in items:
            found = self.embedder.embed_segments(item.source, hop_s=hop_s)
            out.append(self.result(
                summary={"segments": len(found), "dim": found.dim,
                         "segment_s": found.segment_s},
                embeddings=found))
        return out


ANALYZER = EmbedAnalyzer
