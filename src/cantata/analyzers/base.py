"""The one interface every capability implements to take part in scans and serving."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cantata.capabilities import capability, model_path, weights_identity
from cantata.types import Embeddings, Segment, Waveform


@dataclass(frozen=True)
class Result:
    """What one analyzer found in one track.

    Attributes:
        analyzer: the analyzer's name, e.g. ``"detect"``.
        analyzer_version: the analyzer code's version (a change invalidates old results).
        model: the model it ran, e.g. ``"singing"``.
        model_version: the model's weights identity, e.g. ``"singing-detector-binary-c9daa24e"``.
        summary: small JSON-ready facts, e.g. ``{"vocal_s": 21.9}``.
        regions: time regions found (detection), in seconds.
        stems: stem name -> file path (separation).
        created_at: ISO 8601 UTC time the result was written ("" before it is stored).
        embeddings: the segments' embeddings (the ``embed`` analyzer), or None. Not part of
            equality (arrays do not compare as one truth value) nor of :meth:`to_dict`, which
            gives their shape only.
    """

    analyzer: str
    analyzer_version: str
    model: str
    model_version: str
    summary: dict[str, Any] = field(default_factory=dict)
    regions: tuple[Segment, ...] = ()
    stems: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    embeddings: Embeddings | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """``analyzer@analyzer_version:model_version``: equal keys mean an up-to-date result."""
        return f"{self.analyzer}@{self.analyzer_version}:{self.model_version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; embeddings as ``{"model_version", "segment_s", "dim", "segments"}``
        (no vectors) or None."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "embeddings"}
        out["summary"] = copy.deepcopy(self.summary)
        out["regions"] = [asdict(r) for r in self.regions]
        out["stems"] = dict(self.stems)
        e = self.embeddings
        out["embeddings"] = None if e is None else {
            "model_version": e.model_version, "segment_s": e.segment_s, "dim": e.dim,
            "segments": len(e)}
        return out



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


def model_spec(analyzer: str, version: str, model: str | None) -> AnalyzerSpec:
    """The spec of ``analyzer`` (a capability's name) running ``model``: a debug name, a
    shipped name (its weights file's identity), or a checkpoint file; None for the
    capability's default model.

    Raises:
        ModelLoadError: an unknown name (the message lists the capability's models), or
            shipped weights not there yet.
    """
    cap = capability(analyzer)
    model = model or cap.default_model
    identity = model if model in cap.debug else weights_identity(model_path(model, analyzer))
    return AnalyzerSpec(analyzer, model, version, identity)
