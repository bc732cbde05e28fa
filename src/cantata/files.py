"""Writing result files safely: atomically, and never over a user's file unless asked.

Result files go through :func:`atomic_output` (or :func:`write_bytes_atomic`,
:func:`write_text_atomic`): each is written to a hidden ``.<name>.*.part`` file beside its
destination and renamed into place when complete, so no reader ever sees half a file under
the real name. Every refusal to replace a file is worded by :func:`exists_problem`.
"""

from __future__ import annotations

import functools
import glob
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cantata.errors import CantataError

PathLike = str | os.PathLike[str]
log = logging.getLogger(__name__)
#: when this process started writing: temporaries older than this are a killed run's
_STARTED = time.time()
#: at most this much of the destination's name goes into a temporary name (255-byte limit)
TEMP_NAME_BYTES = 200


class OutputExistsError(CantataError):
    """The output file exists and overwriting was not asked for."""


def exists_problem(flag: str = "--overwrite") -> str:
    """The one wording of a refusal to replace an existing file, naming the ``flag`` that would."""
    return f"file exists (use {flag} to replace it)"


def check_overwrite(path: PathLike, overwrite: bool, *, flag: str = "--overwrite") -> None:
    """Refuse an existing ``path`` unless ``overwrite``.

    Args:
        flag: the option that asks for overwriting, as the message names it.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
    """
    if not overwrite and Path(path).exists():
        raise OutputExistsError(f"{path}: {exists_problem(flag)}")


@contextmanager
def atomic_output(dest: PathLike, *, overwrite: bool = False,
                  parents: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``, renamed onto ``dest`` if the block succeeds.

    The temporary file exists (empty) and has the permissions a new file gets; write it
    by path or open it. On success it is flushed to disk and renamed into place; on any
    exception it is removed.

    Args:
        overwrite: replace an existing ``dest``; otherwise it is an error, raised first.
        parents: create missing folders above ``dest``.

    Raises:
        OutputExistsError: ``dest`` exists and ``overwrite`` is false.
        OSError: the folder is missing (without ``parents``) or not writable.
    """
    dest = Path(dest)
    check_overwrite(dest, overwrite)
    if parents:
        dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(dest)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: PathLike, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_output`.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
    """
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: PathLike, text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` as UTF-8 to ``path`` through :func:`atomic_output`.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
    """
    return write_bytes_atomic(path, text.encode("utf-8"), overwrite=overwrite)


def temp_beside(dest: PathLike) -> Path:
    """A new empty file ``.<name>.*.part`` in ``dest``'s folder, to be renamed onto ``dest``.

    Prefer :func:`atomic_output`; this is for writers that rename several files together.
    Unlike ``tempfile.mkstemp``'s 0o600, the file gets the permissions any new file would
    (0o666 less the umask), so results are as readable as the user's other files.
    """
    dest = Path(dest)
    # the name bounded (in bytes) so that the temporary name fits where ``dest``'s does
    name = dest.name.encode()[:TEMP_NAME_BYTES].decode(errors="ignore")
    sweep_stale_temps(dest.parent, name)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest.parent)
    try:
        os.fchmod(fd, new_file_mode())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return Path(tmp)


def sweep_stale_temps(folder: Path, name: str) -> int:
    """Delete the ``.<name>.XXXXXXXX.part`` temporaries in ``folder`` that are older than
    this process (left by a run that was killed); no other file is touched.

    Returns:
        how many were deleted.
    """
    pattern = re.compile(re.escape(f".{name}.") + r"[a-z0-9_]{8}\.part")
    removed = 0
    for path in folder.glob(glob.escape(f".{name}.") + "*.part"):
        try:
            if pattern.fullmatch(path.name) and path.stat().st_mtime < _STARTED:
                path.unlink()
                removed += 1
                log.info("%s: deleted a temporary file a killed run left", path)
        except OSError:
            continue  # gone already, or not ours to delete
    return removed


@functools.cache
def new_file_mode() -> int:
    """The permissions a plainly created file gets (0o666 less the umask), read on first use."""
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, from ``/proc`` where it can be read without changing it."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)  # elsewhere it can only be read by setting it
    os.umask(umask)
    return umask


def _fsync(path: Path) -> None:
    """Flush ``path``'s contents to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
