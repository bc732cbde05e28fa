"""The one interface every capability implements to take part in scans and serving."""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cantata.catalog.records import Result
from cantata.errors import ModelLoadError
from cantata.types import Embeddings, Segment, Waveform


@dataclass(frozen=True)
class TrackAudio:
    """One track as an analyzer receives it.

    Attributes:
        path: the audio file.
        content_hash: BLAKE2b-128 of its bytes (names per-track outputs such as stems).
        waveform: the decoded audio at its own rate and channel count, or None for a file
            too long to hold in memory (then analyzers stream ``path``).
    """

    path: str
    content_hash: str
    waveform: Waveform | None = None

    @property
    def source(self) -> str | Waveform:
        """What to hand a model API: the decoded audio when held, else the path."""
        return self.waveform if self.waveform is not None else self.path


@dataclass(frozen=True)
class AnalyzerSpec:
    """Which analyzer and model a scan runs, known without loading the model.

    Attributes:
        name: the analyzer, e.g. ``"detect"``.
        model: the model as asked for, e.g. ``"singing"`` or a checkpoint path.
        version: the analyzer code's version.
        model_version: the weights' identity (file stem with its hash).
    """

    name: str
    model: str
    version: str
    model_version: str

    @property
    def key(self) -> str:
        """Equal to :attr:`Result.key` of the results this spec produces."""
        return f"{self.name}@{self.version}:{self.model_version}"

    def __str__(self) -> str:
        return f"{self.name}={self.model}"


class Analyzer(ABC):
    """Turns tracks into catalog :class:`~cantata.catalog.Result` s, models loaded once.

    Subclasses set ``name`` and ``version`` (bump it when results change meaning) and
    implement :meth:`analyze`; the scan and the server call nothing else.
    """

    name: str
    version: str

    def __init__(self, spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> None:
        """Load the spec's model. ``files_dir``: where analyzers that write files put them."""
        self.spec = spec
        self.files_dir = Path(files_dir) if files_dir is not None else None

    @abstractmethod
    def analyze(self, items: Sequence[TrackAudio]) -> list[Result]:
        """One result per item, in order. May batch the items through the model.

        Raises:
            CantataError: an item cannot be analyzed (the caller records it as failed).
        """

    def result(self, *, summary: dict[str, object] | None = None,
               regions: Sequence[Segment] = (), stems: dict[str, str] | None = None,
               embeddings: Embeddings | None = None) -> Result:
        """A :class:`Result` stamped with this analyzer's and model's identity."""
        return Result(self.spec.name, self.spec.version, self.spec.model,
                      self.spec.model_version, dict(summary or {}), tuple(regions),
                      dict(stems or {}), embeddings=embeddings)


def model_spec(analyzer: str, version: str, model: str, *, shipped: Iterable[str],
               shipped_path: Callable[[str], Path], debug: Iterable[str]) -> AnalyzerSpec:
    """The spec of ``analyzer`` running ``model``: a debug name, a shipped name (its weights
    file's identity), or a checkpoint file.

    Raises:
        ModelLoadError: an unknown name, a missing file, or shipped weights not there yet.
    """
    shipped, debug = list(shipped), list(debug)
    if model in debug:
        identity = model
    elif model in shipped:
        identity = shipped_path(model).stem
    elif Path(model).is_file():
        identity = weights_identity(model)
    else:
        raise ModelLoadError(f"{analyzer}: unknown model {model!r} (shipped: "
                             f"{', '.join(shipped + debug)}; or a checkpoint file)")
    return AnalyzerSpec(analyzer, model, version, identity)


def weights_identity(path: str | os.PathLike[str]) -> str:
    """A checkpoint's identity: its file stem, plus a hash of its bytes unless the stem
    already ends in one (the shipped ``<name>-<sha8>.pt`` files)."""
    path = Path(path)
    tail = path.stem.rsplit("-", 1)[-1]
    if len(tail) == 8 and all(c in "0123456789abcdef" for c in tail):
        return path.stem
    digest = hashlib.blake2b(path.read_bytes(), digest_size=4).hexdigest()
    return f"{path.stem}-{digest}"
