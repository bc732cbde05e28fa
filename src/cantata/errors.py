"""The one exception hierarchy of Cantata.

Every error a user can cause (a bad file, a bad option, a bad checkpoint) is a
:class:`CantataError`; the CLI prints its message on one line and exits 2.
"""

from __future__ import annotations

import os


class CantataError(Exception):
    """Base class of every error Cantata raises on purpose."""


class AudioLoadError(CantataError):
    """An audio file could not be read: missing, empty, corrupt or unusable."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class AudioSaveError(CantataError):
    """An audio file could not be written (exists already, bad format, bad samples)."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(CantataError):
    """A configuration value is missing, of the wrong type, or out of range."""


class ShapeError(CantataError):
    """A tensor or array arrived with a shape the callee cannot take."""


class ModelLoadError(CantataError):
    """A checkpoint could not be loaded or does not describe a known model."""
