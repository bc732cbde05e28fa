"""The catalog follows the library: moves by content hash, missing files, pruning."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.scan import scan
from cantata.scan.prune import prune

ANALYZERS = "detect=debug,separate=debug,embed=debug"


def run(root, db, **kw):
    with Catalog(db) as catalog:
        return scan(root, catalog, resolve(ANALYZERS), backend="inline", **kw)


def test_a_moved_file_keeps_its_track_and_results(library, tmp_path):
    db = tmp_path / "c.db"
    run(library, db)
    old = (library / "track001.flac").resolve()
    with Catalog(db) as catalog:
        before = catalog.track(old)
        n = catalog.count(missing=None)
    new = library / "sub" / "deeper" / "renamed.flac"
    new.parent.mkdir()
    shutil.move(old, new)
    summary = run(library, db)
    assert (summary.moved, summary.analyzed, summary.missing) == (1, 0, 0)
    assert summary.to_dict()["moved"] == 1
    with Catalog(db) as catalog:
        after = catalog.track(new)
        assert catalog.track(old) is None and catalog.count(missing=None) == n
        assert after.id == before.id and not after.missing and after.path == str(new.resolve())
        assert {k: r.created_at for k, r in after.results.items()} == \
            {k: r.created_at for k, r in before.results.items()}  # nothing re-analysed
    assert run(library, db).skipped == 5  # and the next scan opens nothing


def test_a_deleted_file_is_missing_until_it_comes_back(library, tmp_path):
    db = tmp_path / "c.db"
    run(library, db)
    gone = (library / "track002.wav").resolve()
    kept = gone.read_bytes()
    gone.unlink()
    assert run(library / "sub", db).missing == 0  # a scan of another folder leaves it be
    summary = run(library, db)
    assert summary.missing == 1 and summary.to_dict()["missing"] == 1
    with Catalog(db) as catalog:
        assert str(gone) not in [t.path for t in catalog.tracks()]  # out of lists and search
        assert catalog.tracks(search="track002") == []
        assert [t.path for t in catalog.tracks(missing=True)] == [str(gone)]
        assert catalog.track(gone).missing and catalog.track(gone).to_dict()["missing"] is True
        assert catalog.stats()["missing"] == 1 and catalog.count() == 4
        track_ids = set(catalog.embeddings(next(iter(catalog.embedding_models())))[0])
        assert catalog.track(gone).id not in track_ids
    assert run(library, db).missing == 0  # already known to be missing
    gone.write_bytes(kept)
    run(library, db)
    with Catalog(db) as catalog:
        assert not catalog.track(gone).missing and catalog.count(missing=True) == 0


def test_prune_deletes_missing_tracks_and_only_their_stems(library, tmp_path):
    db = tmp_path / "c.db"
    twin = library / "sub" / "track002.wav"
    shutil.copy(library / "track002.wav", twin)  # same name and content: the same stem files
    run(library, db)
    gone = (library / "track001.flac").resolve()
    with Catalog(db) as catalog:
        stems = list(catalog.track(gone).results["separate"].stems.values())
        shared = list(catalog.track(twin).results["separate"].stems.values())
    gone.unlink()
    (library / "track002.wav").unlink()
    run(library, db)
    with Catalog(db, create=False) as catalog:
        pruned = prune(catalog, tmp_path / "c-files")
        assert (pruned.tracks, pruned.files) == (2, len(stems))
        assert catalog.count(missing=None) == 4 and catalog.track(gone) is None
        assert catalog.track(twin).results["separate"].stems
    assert not any(os.path.exists(p) for p in stems)
    assert not Path(stems[0]).parent.exists()  # emptied folders go too
    assert all(os.path.exists(p) for p in shared)
