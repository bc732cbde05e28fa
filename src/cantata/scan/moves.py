"""Following the library: files moved (same content, new path) and files gone."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cantata.catalog import FileStat, KnownFile
from cantata.scan.plan import stat_of
from cantata.scan.worker import file_hash


@dataclass(frozen=True)
class Changes:
    """How the library changed since the catalog saw it.

    Attributes:
        moved: old path -> the file's stat at its new path (same content).
        missing: paths of tracks whose file is gone (not moved), newly so.
        back: paths of tracks marked missing whose file is there again.
    """

    moved: dict[str, FileStat]
    missing: list[str]
    back: list[str]


def find_changes(root: Path, files: Sequence[Path], known: dict[str, KnownFile]) -> Changes:
    """Match new files to tracks whose file is gone, by size then content hash.

    Only tracks under ``root`` (or already missing) can be gone: a scan of one folder says
    nothing of another. Only a new file of the size of a gone track is hashed here.
    """
    present = {str(p) for p in files}
    gone = {path: k for path, k in known.items()
            if path not in present and (k.missing or _under(path, root))
            and k.content_hash and not os.path.exists(path)}
    moved = _match(files, known, gone)
    missing = [path for path, k in gone.items() if path not in moved and not k.missing]
    back = [path for path in present if path in known and known[path].missing]
    return Changes(moved, missing, back)


def _match(files: Sequence[Path], known: dict[str, KnownFile],
           gone: dict[str, KnownFile]) -> dict[str, FileStat]:
    """old path -> new stat for every new file whose content a gone track had."""
    by_size: dict[int, list[str]] = {}
    for path, k in gone.items():
        by_size.setdefault(k.stat.size_bytes, []).append(path)
    moved: dict[str, FileStat] = {}
    for path in files:
        if str(path) in known:
            continue
        try:
            stat = stat_of(path)
            candidates = [old for old in by_size.get(stat.size_bytes, ()) if old not in moved]
            digest = file_hash(path) if candidates else None
        except OSError:
            continue  # unreadable or vanished: the scan reports it as for any new file
        old = next((o for o in candidates if gone[o].content_hash == digest), None)
        if old is not None:
            moved[old] = stat
    return moved


def _under(path: str, root: Path) -> bool:
    """Whether ``path`` is ``root`` or inside it."""
    return path == str(root) or path.startswith(str(root).rstrip(os.sep) + os.sep)
