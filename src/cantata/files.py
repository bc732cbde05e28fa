"""Writing result files safely: atomically, and never over a user's file unless asked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cantata.errors import CantataError


class OutputExistsError(CantataError):
    """The output file exists and overwriting was not asked for."""


def _new_file_mode() -> int:
    """The permissions a plainly created file gets here (0o666 less the umask)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


#: read once: os.umask can only be read by setting it
NEW_FILE_MODE = _new_file_mode()


def temp_beside(dest: str | os.PathLike[str], folder: str | os.PathLike[str] | None = None,
                ) -> tuple[int, str]:
    """(fd, path) of a new temporary file in ``dest``'s folder, to be renamed onto ``dest``.

    Unlike ``tempfile.mkstemp``'s 0o600, the file gets the permissions any new file would
    (0o666 less the umask), so results are as readable as the user's other files.
    """
    dest = Path(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part",
                               dir=folder if folder is not None else dest.parent)
    os.fchmod(fd, NEW_FILE_MODE)
    return fd, tmp


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
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
