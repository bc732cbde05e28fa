"""Writing result files safely: atomically, and never over a user's file unless asked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cantata.errors import CantataError


class OutputExistsError(CantataError):
    """The output file exists and overwriting was not asked for."""


def write_text_atomic(path: str | os.PathLike[str], text: str, *,
                      overwrite: bool = False) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: file exists (use --overwrite to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
