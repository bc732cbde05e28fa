"""The ``defects`` analyzer: clicks, dropouts, clipping and other defects of each track.

What it stores per track (the contract the catalog, the report and the track page read):

- ``regions``: one :class:`~cantata.types.Segment` per defect event, ``label`` the defect
  type (a name of :data:`cantata.defects.DEFECT_TYPES`), ``confidence`` the event's;
- ``summary``: ``{"defective": bool, "score": float, "types": {type: count, every type},
  "events": int}``, the song verdict of :class:`cantata.defects.DefectDetector`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio, model_spec
from cantata.types import Segment

VERSION = "1"


def resolve(model: str | None) -> AnalyzerSpec:
    """The spec of ``defects`` with a shipped model, a debug model or a checkpoint; None
    for the capability's default.

    Raises:
        ModelLoadError: an unknown name, a missing file, or shipped weights not there yet.
    """
    return model_spec("defects", VERSION, model)


def regions_of(report: Any) -> list[Segment]:
    """The events of a :class:`~cantata.defects.DefectReport` as labelled regions."""
    return [Segment(e.start_s, e.end_s, e.type, round(float(e.confidence), 4))
            for e in report.events]


def summary_of(report: Any) -> dict[str, object]:
    """The stored summary of a :class:`~cantata.defects.DefectReport`."""
    verdict = report.verdict
    return {"defective": bool(verdict.defective), "score": round(float(verdict.score), 4),
            "types": {t: int(n) for t, n in verdict.types.items()},
            "events": len(report.events)}


class DefectsAnalyzer(Analyzer):
    """Defect events as regions and the song verdict as the summary (module docstring)."""

    name, version = "defects", VERSION

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        from cantata.defects.api import DefectDetector

        super().__init__(spec, files_dir=files_dir)
        self.detector = DefectDetector.from_pretrained(spec.model)

    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        """One track at a time; a track without a held waveform streams from its file."""
        out = []
        for item in items:
            report = self.detector.detect(item.source)
            out.append(self.result(summary=summary_of(report), regions=regions_of(report)))
        return out


ANALYZER = DefectsAnalyzer
