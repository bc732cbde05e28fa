"""The ``assess`` analyzer: one quality report per track (rule-based, no model).

What it stores per track (the contract the catalog, the report and the track page read):
``summary`` = the JSON object of ``cantata assess`` without ``file`` (grade, reasons,
``lossy``, ``loudness``, ``clipping``, ``pcm_hash`` ...); its ``duplicates`` and
``defects`` are filled in when the catalog is read (:mod:`cantata.catalog.quality`), as
they depend on other tracks and on the ``defects`` analyzer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio
from cantata.assess.api import MODEL
from cantata.assess.api import VERSION as RULES_VERSION
from cantata.errors import ModelLoadError

VERSION = "1"


def resolve(model: str | None) -> AnalyzerSpec:
    """The spec of ``assess``: its rules (``None`` or ``"rules"``).

    Raises:
        ModelLoadError: any other model name (there are no trained models).
    """
    if model not in (None, MODEL):
        raise ModelLoadError(f"assess: unknown model {model!r} (available: {MODEL})")
    return AnalyzerSpec("assess", MODEL, VERSION, f"assess-rules-{RULES_VERSION}")


class AssessAnalyzer(Analyzer):
    """The quality report as the summary (module docstring)."""

    name, version = "assess", VERSION

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        from cantata.assess import Assessor

        super().__init__(spec, files_dir=files_dir)
        self.assessor = Assessor()

    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        """A held waveform with its file's header (when the file is there: an upload's is
        not); a track too long to hold, from its file."""
        out = []
        for item in items:
            held = item.waveform is not None
            header = item.path if held and Path(item.path).is_file() else None
            report = self.assessor.assess(item.source, file=header)
            summary = report.to_dict(item.path)
            del summary["file"]
            out.append(self.result(summary=summary))
        return out


ANALYZER = AssessAnalyzer
