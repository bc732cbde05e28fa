"""Which files a scan opens, and which analyzers it reruns."""

from __future__ import annotations

from cantata.analyzers import AnalyzerSpec
from cantata.catalog import FileStat, KnownFile
from cantata.scan import discover, plan
from cantata.scan.plan import stat_of

DETECT = AnalyzerSpec("detect", "singing", "1", "m1")
SEPARATE = AnalyzerSpec("separate", "separator", "1", "s1")


def known(stat, *, keys=(DETECT.key,), status="ok", content_hash="h"):
    return KnownFile(stat, content_hash, status, frozenset(keys))


def test_discover_finds_audio_recursively_and_sorted(tmp_path):
    for name in ("b.wav", "a/c.MP3", "a/.hidden.wav", "notes.txt", "a/d.flac"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = discover(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/c.MP3", "a/d.flac",
                                                                    "b.wav"]
    assert all(p.is_absolute() for p in found)
    assert discover(tmp_path / "b.wav") == [(tmp_path / "b.wav").resolve()]


def test_plan_skips_unchanged_and_reruns_only_what_is_missing(tmp_path):
    files = []
    for name in ("new", "same", "missing", "touched", "failed", "failed_touched"):
        files.append(tmp_path / f"{name}.wav")
        files[-1].write_bytes(name.encode())
    stats = {f.stem: stat_of(f) for f in files}
    moved = FileStat(stats["touched"].path, 1, 1)
    catalog = {
        stats["same"].path: known(stats["same"], keys=(DETECT.key, SEPARATE.key)),
        stats["missing"].path: known(stats["missing"], keys=(DETECT.key,)),
        stats["touched"].path: known(moved, keys=(DETECT.key, SEPARATE.key)),
        stats["failed"].path: known(stats["failed"], keys=(), status="failed"),
        stats["failed_touched"].path: known(FileStat(stats["failed_touched"].path, 1, 1),
                                            keys=(), status="failed"),
    }
    work = plan(files, catalog, [DETECT, SEPARATE])
    jobs = {p.stat.path.rsplit("/", 1)[1][:-4]: p for p in work.jobs}
    assert sorted(jobs) == ["failed_touched", "missing", "new", "touched"]
    assert work.files == 6 and work.skipped == 2
    assert jobs["new"].known_hash is None and jobs["new"].needed == ("detect", "separate")
    assert jobs["missing"].needed == ("separate",)
    assert jobs["touched"].needed == () and jobs["touched"].known_hash == "h"
    assert jobs["failed_touched"].needed == ("detect", "separate")
    retry = plan(files, catalog, [DETECT, SEPARATE], retry_failed=True)
    assert "failed" in {p.stat.path.rsplit("/", 1)[1][:-4] for p in retry.jobs}


def test_a_new_model_version_reruns_that_analyzer(tmp_path):
    f = tmp_path / "a.wav"
    f.write_bytes(b"a")
    newer = AnalyzerSpec("detect", "singing", "1", "m2")
    work = plan([f], {str(f): known(stat_of(f))}, [newer])
    assert work.jobs[0].needed == ("detect",)
