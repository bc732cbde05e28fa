"""Kill a scan with SIGKILL mid-way, run it again: every track once, none half-written."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import soundfile as sf

from cantata.catalog import Catalog

N_TRACKS = 40


def written(db):
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_then_rescan_loses_and_duplicates_nothing(make_library, tmp_path, jobs):
    root, db = tmp_path / "lib", tmp_path / "c.db"
    make_library(root, N_TRACKS, seconds=3.0, rate=44100)
    command = [sys.executable, "-m", "cantata.cli", "scan", str(root), "--db", str(db),
               "--analyzers", "detect=debug,separate=debug", "--jobs", str(jobs), "-q"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while written(db) < 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = written(db)
    assert 5 <= done_before < N_TRACKS, "the scan must be killed mid-way for this test"

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    with Catalog(db) as catalog:
        tracks = catalog.tracks(with_results=True)
        assert len(tracks) == N_TRACKS and len({t.path for t in tracks}) == N_TRACKS
        assert all(t.ok and set(t.results) == {"detect", "separate"} for t in tracks)
        for track in tracks:
            for path in track.results["separate"].stems.values():
                assert sf.info(path).frames == 3 * 44100  # complete, readable stems
        runs = catalog.scans()
        assert [r.status for r in runs] == ["killed", "finished"]
        assert runs[1].skipped == done_before and runs[1].analyzed == N_TRACKS - done_before
    assert not list((tmp_path / "c-files").rglob("*.part"))
