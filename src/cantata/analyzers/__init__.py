"""Analyzers: how each capability turns tracks into catalog results.

A scan or a server names analyzers as specs, ``"detect"`` or ``"detect=MODEL"``;
:func:`resolve` checks a spec and fixes its model's identity without loading anything,
:func:`build` loads the model (once per worker process). The analyzers are those of the
capability registry (:data:`cantata.capabilities.CAPABILITIES`, field ``analyzer``): a
module with ``resolve(model)`` and ``ANALYZER``, an :class:`Analyzer` subclass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from cantata.analyzers.base import Analyzer, AnalyzerSpec, Result, TrackAudio
from cantata.capabilities import CAPABILITIES
from cantata.errors import ConfigError

#: analyzer name -> its module, as the capability registry declares it (imported on use)
REGISTRY: dict[str, str] = {
    name: cap.analyzer for name, cap in CAPABILITIES.items() if cap.analyzer is not None}


def _module(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(REGISTRY[name])


def resolve(specs: str | Sequence[str]) -> list[AnalyzerSpec]:
    """Parse ``"detect,separate=debug"`` (or a list of such items) into specs.

    Raises:
        ConfigError: an unknown analyzer, or one named twice.
        ModelLoadError: an unknown model.
    """
    items = [s.strip() for s in (specs.split(",") if isinstance(specs, str) else specs)]
    out: list[AnalyzerSpec] = []
    for item in filter(None, items):
        name, _, model = item.partition("=")
        if name not in REGISTRY:
            raise ConfigError(f"unknown analyzer {name!r}; choose from {', '.join(REGISTRY)}")
        if any(s.name == name for s in out):
            raise ConfigError(f"analyzer {name!r} named twice")
        out.append(_module(name).resolve(model or None))
    if not out:
        raise ConfigError("no analyzers given")
    return out


def build(spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> Analyzer:
    """Load the analyzer's model. ``files_dir``: where analyzers that write files write."""
    return _module(spec.name).ANALYZER(spec, files_dir=files_dir)


__all__ = ["REGISTRY", "Analyzer", "AnalyzerSpec", "Result", "TrackAudio", "build", "resolve"]
