"""Building frozen config dataclasses from plain mappings (JSON, YAML, checkpoints)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from cantata.errors import ConfigError

T = TypeVar("T")


def from_mapping(cls: type[T], d: Mapping[str, Any]) -> T:
    """``cls(**d)`` after checking ``d`` is a mapping of known fields; missing keys default.

    Raises:
        ConfigError: ``d`` is not a mapping, or has keys that are not fields of ``cls``.
    """
    name = cls.__name__
    if not isinstance(d, Mapping):
        raise ConfigError(f"{name}.from_dict needs a mapping, got {type(d).__name__}")
    known = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"unknown {name} keys: {unknown}; known: {sorted(known)}")
    return cls(**d)
