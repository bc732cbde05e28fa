"""Analyzers: how each capability turns tracks into catalog results.

A scan or a server names analyzers as specs, ``"detect"`` or ``"detect=MODEL"``;
:func:`resolve` checks a spec and fixes its model's identity without loading anything,
:func:`build` loads the model (once per worker process). Adding a capability means adding
a module with ``resolve`` and an :class:`Analyzer` subclass, and a line in :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from cantata.analyzers.base import Analyzer, AnalyzerSpec, TrackAudio
from cantata.errors import ConfigError


def _detect() -> tuple[Callable[[str | None], AnalyzerSpec], type[Analyzer]]:
    from cantata.analyzers import detect

    return detect.resolve, detect.DetectAnalyzer


def _separate() -> tuple[Callable[[str | None], AnalyzerSpec], type[Analyzer]]:
    from cantata.analyzers import separate

    return separate.resolve, separate.SeparateAnalyzer


def _embed() -> tuple[Callable[[str | None], AnalyzerSpec], type[Analyzer]]:
    from cantata.analyzers import embed

    return embed.resolve, embed.EmbedAnalyzer


#: analyzer name -> loader of its (resolve, class); lazy, so listing loads no model code
REGISTRY: dict[str, Callable[[], tuple[Callable[[str | None], AnalyzerSpec], type[Analyzer]]]] = {
    "detect": _detect,
    "separate": _separate,
    "embed": _embed,
}


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
        out.append(REGISTRY[name]()[0](model or None))
    if not out:
        raise ConfigError("no analyzers given")
    return out


def build(spec: AnalyzerSpec, *, files_dir: str | Path | None = None) -> Analyzer:
    """Load the analyzer's model. ``files_dir``: where analyzers that write files write."""
    return REGISTRY[spec.name]()[1](spec, files_dir=files_dir)


__all__ = ["REGISTRY", "Analyzer", "AnalyzerSpec", "TrackAudio", "build", "resolve"]
