"""Scanning a library into the catalog: results, skipping, changes, failures, backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import soundfile as sf

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.errors import CantataError
from cantata.scan import scan
from cantata.scan.runner import scan_lock, sweep_partial_files
from cantata.testing import noise

DEBUG = "detect=debug,separate=debug"


def run(root, db, analyzers=DEBUG, **kw):
    kw.setdefault("backend", "inline")  # no worker start-up; pools are tested below
    with Catalog(db) as catalog:
        return scan(root, catalog, resolve(analyzers), **kw)


def test_scan_fills_the_catalog_and_a_rescan_opens_nothing(library, tmp_path):
    db = tmp_path / "c.db"
    summary = run(library, db)
    assert (summary.found, summary.analyzed, summary.skipped) == (5, 4, 0)
    assert list(summary.failed) == [str((library / "broken.wav").resolve())]
    assert "not a decodable audio file" in next(iter(summary.failed.values()))
    assert summary.run.status == "finished" and summary.run.analyzed == 4
    assert summary.audio_s == pytest.approx(4 * 0.5)
    assert {"hash", "decode", "detect", "separate", "write"} <= set(summary.seconds)
    with Catalog(db) as catalog:
        tracks = catalog.tracks(status="ok", with_results=True)
        assert len(tracks) == 4
        for track in tracks:
            assert set(track.results) == {"detect", "separate"}
            assert track.duration_s == pytest.approx(0.5)
            assert track.loudness_lufs is not None and len(track.content_hash) == 32
            for path in track.results["separate"].stems.values():
                info = sf.info(path)
                assert (info.samplerate, info.channels) == (16000, track.channels)
                assert info.frames == 8000
                assert path.startswith(str(tmp_path / "c-files" / track.content_hash))
        failed = catalog.tracks(status="failed")[0]
        assert failed.error.startswith("not a decodable audio file")
    again = run(library, db)
    assert (again.skipped, again.analyzed, len(again.failed)) == (5, 0, 0)
    assert again.seconds == {}


def test_touched_file_is_hashed_not_reanalyzed_and_new_content_is(library, tmp_path):
    db = tmp_path / "c.db"
    run(library, db)
    touched, changed = sorted(library.rglob("track*.wav"))[:2]
    os.utime(touched, ns=(1, 1))
    wav = noise(duration_s=1.0, sample_rate=16000, seed=99)
    sf.write(str(changed), wav.samples.T, 16000)
    with Catalog(db) as catalog:
        before = catalog.track(touched.resolve()).results["detect"].created_at
    summary = run(library, db)
    assert (summary.analyzed, summary.skipped) == (1, 4)  # touched: skipped after its hash
    with Catalog(db) as catalog:
        assert catalog.track(touched.resolve()).mtime_ns == 1
        assert catalog.track(touched.resolve()).results["detect"].created_at == before
        assert catalog.track(changed.resolve()).duration_s == pytest.approx(1.0)


def test_a_new_analyzer_runs_only_where_missing(library, tmp_path):
    db = tmp_path / "c.db"
    run(library, db, "detect=debug")
    summary = run(library, db)
    assert summary.analyzed == 4 and "detect" not in summary.seconds
    with Catalog(db) as catalog:
        assert all(set(t.results) == {"detect", "separate"}
                   for t in catalog.tracks(status="ok", with_results=True))


def test_failed_files_are_retried_when_asked_or_changed(library, tmp_path):
    db = tmp_path / "c.db"
    run(library, db)
    resumed = run(library, db)
    assert resumed.failed == {} and resumed.still_failed == 1
    assert resumed.to_dict()["still_failed"] == 1
    assert len(run(library, db, retry_failed=True).failed) == 1
    sf.write(str(library / "broken.wav"), noise(duration_s=0.3, sample_rate=8000).samples.T,
             8000)
    summary = run(library, db)
    assert summary.failed == {} and summary.analyzed == 1
    with Catalog(db) as catalog:
        assert catalog.count(status="failed") == 0


def test_hundred_tracks_three_corrupt(make_library, tmp_path):
    root = tmp_path / "lib"
    make_library(root, 97, seconds=0.2, corrupt=["bad.mp3", "empty.flac", "junk.ogg"])
    summary = run(root, tmp_path / "c.db", "detect=debug")
    assert (summary.found, summary.analyzed, len(summary.failed)) == (100, 97, 3)
    with Catalog(tmp_path / "c.db") as catalog:
        assert catalog.count(status="ok") == 97 and catalog.count(status="failed") == 3
        assert all(t.error for t in catalog.tracks(status="failed"))


def test_worker_pool_gives_the_inline_results(library, tmp_path):
    inline = run(library, tmp_path / "a.db", "detect=debug")
    pooled = run(library, tmp_path / "b.db", "detect=debug", jobs=2, backend="local")
    assert pooled.analyzed == inline.analyzed == 4
    with Catalog(tmp_path / "a.db") as a, Catalog(tmp_path / "b.db") as b:
        assert [(t.path, t.results["detect"].regions) for t in
                a.tracks(status="ok", with_results=True)] == \
               [(t.path, t.results["detect"].regions) for t in
                b.tracks(status="ok", with_results=True)]


@pytest.mark.slow
def test_ray_backend_on_a_local_instance(library, tmp_path):
    pytest.importorskip("ray")
    summary = run(library, tmp_path / "c.db", backend="ray", jobs=1)
    assert (summary.analyzed, len(summary.failed)) == (4, 1)
    assert summary.run.backend == "ray"
    with Catalog(tmp_path / "c.db") as catalog:
        assert all(len(t.results["separate"].stems) == 2
                   for t in catalog.tracks(status="ok", with_results=True))


def test_one_scan_at_a_time_and_debris_is_swept(library, tmp_path):
    db = tmp_path / "c.db"
    with scan_lock(db), pytest.raises(CantataError, match="another scan"):
        run(library, db)
    debris = tmp_path / "c-files" / "x" / ".vocals.flac.abc.part"
    debris.parent.mkdir(parents=True)
    debris.write_bytes(b"half")
    assert sweep_partial_files(tmp_path / "c-files") == 1 and not debris.exists()


def test_the_lock_holds_through_a_symlinked_catalog_path(library, tmp_path):
    real = tmp_path / "real.db"
    Catalog(real).close()
    (tmp_path / "link.db").symlink_to(real)
    with scan_lock(real), pytest.raises(CantataError, match="another scan"):
        run(library, tmp_path / "link.db")


def test_missing_library_is_a_clear_error(tmp_path):
    with pytest.raises(CantataError, match="nowhere: library folder not found"):
        run(tmp_path / "nowhere", tmp_path / "c.db")


def _crash_on_poison(*args):
    """Worker initializer: the normal worker, except that a file named poison kills it."""
    from cantata.scan import local

    local._init_worker(*args)
    real = local._WORKER.run

    def run(job):
        if "poison" in job.stat.path:
            os._exit(3)  # as a segfaulting decoder would
        return real(job)

    local._WORKER.run = run


@pytest.mark.slow
def test_a_file_that_kills_its_worker_is_failed_and_the_scan_goes_on(make_library, tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from cantata.scan import discover, plan
    from cantata.scan.local import ProcessBackend

    class Crashing(ProcessBackend):
        def _new_pool(self):
            return ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context(
                "spawn"), initializer=_crash_on_poison, initargs=self._initargs)

    root = tmp_path / "lib"
    paths = make_library(root, 4, seconds=0.3)
    paths[1].rename(root / "poison.wav")
    work = plan(discover(root), {}, resolve("detect=debug"))
    backend = Crashing(resolve("detect=debug"), files_dir=None, jobs=2)
    try:
        outcomes = {Path(o.job.stat.path).name: o for o in backend.map(work.jobs)}
    finally:
        backend.close()
    assert len(outcomes) == 4
    assert "crashed" in outcomes["poison.wav"].facts.error
    assert all(not o.facts.error and o.results for name, o in outcomes.items()
               if name != "poison.wav")
