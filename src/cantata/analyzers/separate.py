"""The ``separate`` analyzer: vocal and accompaniment stems of each track, written as files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio, model_spec
from cantata.errors import ConfigError

VERSION = "1"
STEM_FORMAT = "flac"


def resolve(model: str | None) -> AnalyzerSpec:
    """The spec of ``separate`` with one of the capability's models (``cantata models``),
    a debug model, or a checkpoint; None for the default.

    Raises:
        ModelLoadError: an unknown name, a missing file, or shipped weights not there yet.
    """
    return model_spec("separate", VERSION, model)


class SeparateAnalyzer(Analyzer):
    """Stems as 16-bit FLAC at the track's rate and channels, in
    ``files_dir/<content hash>/<file stem>/<stem>.flac`` (same content, same place: a
    re-scan replaces them atomically), with their paths and the model's stems in the result.
    The file is streamed, so tracks of any length fit in bounded memory."""

    name, version = "separate", VERSION

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        from cantata.separate.api import Separator

        super().__init__(spec, files_dir=files_dir)
        if self.files_dir is None:
            raise ConfigError("the separate analyzer needs a folder for the stems")
        self.separator = Separator.from_pretrained(spec.model)

    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        out = []
        for item in items:
            written = self.separator.separate_to_files(
                item.path, self.files_dir / item.content_hash, format=STEM_FORMAT,
                overwrite=True)
            out.append(self.result(
                summary={"stems": list(written), "duration_s": round(written.duration_s, 3)},
                stems={stem: str(path.resolve()) for stem, path in written.items()}))
        return out


ANALYZER = SeparateAnalyzer
