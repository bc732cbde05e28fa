"""Forgetting what is gone: missing tracks out of the catalog, their stem files off the disk."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cantata.catalog import Catalog
from cantata.scan.runner import scan_lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruned:
    """What :func:`prune` deleted: tracks, and stem files."""

    tracks: int
    files: int


def prune(catalog: Catalog, files_dir: str | os.PathLike[str]) -> Pruned:
    """Delete the catalog's missing tracks and the stem files only they had under
    ``files_dir`` (files elsewhere are left alone), holding the scan lock.

    Raises:
        CantataError: a scan is writing the catalog.
    """
    with scan_lock(catalog.path):
        tracks, stems = catalog.prune_missing()
    root = Path(files_dir).resolve()
    deleted = 0
    for stem in map(Path, stems):
        if stem.resolve().is_relative_to(root) and stem.is_file():
            stem.unlink()
            deleted += 1
            _remove_empty_folders(stem.parent, root)
    log.info("%s: pruned %d missing track(s), %d stem file(s)", catalog.path, tracks, deleted)
    return Pruned(tracks, deleted)


def _remove_empty_folders(folder: Path, root: Path) -> None:
    """Remove ``folder`` and the folders above it while empty, up to (not including) ``root``."""
    folder = folder.resolve()
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty
        folder = folder.parent
