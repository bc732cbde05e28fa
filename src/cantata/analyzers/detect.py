"""The ``detect`` analyzer: singing (or speech) regions of each track."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio, model_spec

VERSION = "2"  # 2: region times centred on the frames (half a hop earlier than 1)


def resolve(model: str | None) -> AnalyzerSpec:
    """The spec of ``detect`` with one of the capability's models (``cantata models``),
    a debug model, or a checkpoint; None for the default.

    Raises:
        ModelLoadError: an unknown name, a missing file, or shipped weights not there yet.
    """
    return model_spec("detect", VERSION, model)


class DetectAnalyzer(Analyzer):
    """Regions per label (``vocal``; or ``vocal``, ``accompaniment``, ``silence``) and the
    seconds each label covers, as ``summary["<label>_s"]``."""

    name, version = "detect", VERSION

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        from cantata.detect.api import VoiceDetector

        super().__init__(spec, files_dir=files_dir)
        self.detector = VoiceDetector.from_pretrained(spec.model)

    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        """Decoded items share batched forward passes; long ones (no waveform) stream."""
        held = [i for i, item in enumerate(items) if item.waveform is not None]
        found = dict(zip(held, self.detector.detect_many([items[i].waveform for i in held]),
                         strict=True))
        out = []
        for i, item in enumerate(items):
            regions = found[i] if i in found else self.detector.detect(item.path)
            summary: dict[str, object] = {
                f"{label}_s": round(sum(r.duration_s for r in regions if r.label == label), 3)
                for label in self.detector.labels}
            summary["regions"] = len(regions)
            out.append(self.result(summary=summary, regions=regions))
        return out


ANALYZER = DetectAnalyzer
