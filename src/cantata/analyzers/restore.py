"""The ``restore`` analyzer (off by default in scans): a declicked, denoised copy of each
track, written as a file beside the stems."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio, model_spec
from cantata.errors import ConfigError

VERSION = "1"
#: the restored copy: ``files_dir/<content hash>/<file stem>/restored.flac``
RESTORED = "restored"


def resolve(model: str | None) -> AnalyzerSpec:
    """The spec of ``restore`` with one of the capability's models, a debug model or a
    checkpoint; None for the default.

    Raises:
        ModelLoadError: an unknown name, a missing file, or no shipped model yet.
    """
    return model_spec("restore", VERSION, model)


class RestoreAnalyzer(Analyzer):
    """A restored copy as 24-bit FLAC at the track's rate and channels, in
    ``files_dir/<content hash>/<file stem>/restored.flac`` (same content, same place: a
    re-scan replaces it atomically); the clicks filled in the summary."""

    name, version = "restore", VERSION

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        from cantata.restore.api import AudioRestorer

        super().__init__(spec, files_dir=files_dir)
        if self.files_dir is None:
            raise ConfigError("the restore analyzer needs a folder for the restored copies")
        self.restorer = AudioRestorer.from_pretrained(spec.model)

    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        out = []
        for item in items:
            dest = self.files_dir / item.content_hash / Path(item.path).stem / f"{RESTORED}.flac"
            report = self.restorer.restore_to_file(item.path, dest, bits="24", overwrite=True)
            out.append(self.result(summary={"clicks": report.clicks,
                                            "strength": self.restorer.strength},
                                   stems={RESTORED: str(dest.resolve())}))
        return out


ANALYZER = RestoreAnalyzer
