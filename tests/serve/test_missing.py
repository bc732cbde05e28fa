"""Tracks whose file is gone: out of the list, 404 with a reason for their audio, said on
the page."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest
import soundfile as sf
from conftest import debug_config, running

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.scan import scan
from cantata.testing import noise


def missing_catalog(tmp_path):
    """A catalog of three files: gone.wav deleted and re-scanned (missing), vanished.wav
    deleted since (not flagged yet), here.wav. Returns the db and the two ids."""
    root = tmp_path / "library"
    root.mkdir()
    for name in ("gone.wav", "vanished.wav", "here.wav"):
        sf.write(str(root / name), noise(duration_s=0.5, sample_rate=8000).samples.T, 8000)
    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        scan(root, catalog, resolve("detect=debug"), backend="inline")
        (root / "gone.wav").unlink()
        scan(root, catalog, resolve("detect=debug"), backend="inline")
        gone = catalog.track(root / "gone.wav").id
        vanished = catalog.track(root / "vanished.wav").id
    (root / "vanished.wav").unlink()
    return db, gone, vanished


def test_missing_and_vanished_files_answer_404_with_a_reason(tmp_path):
    db, gone, vanished = missing_catalog(tmp_path)
    with running(debug_config(db)) as url:
        listed = httpx.get(f"{url}/v1/tracks").json()
        assert listed["total"] == 2 and "gone.wav" not in str(listed["tracks"])
        assert httpx.get(f"{url}/v1/tracks", params={"search": "gone"}).json()["total"] == 0
        track = httpx.get(f"{url}/v1/tracks/{gone}").json()
        assert track["missing"] is True and "missing" in track["audio_unavailable"]
        for track_id in (gone, vanished):
            for what in ("audio", "peaks"):
                answer = httpx.get(f"{url}/v1/tracks/{track_id}/{what}")
                assert answer.status_code == 404, (track_id, what)
                assert "no longer there" in answer.json()["detail"]
        assert httpx.get(f"{url}/v1/tracks/{vanished}").json()["audio_unavailable"]


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")),
                    reason="needs Debian's chromium and chromium-driver")
def test_the_track_page_says_why_there_is_no_audio(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    db, gone, _ = missing_catalog(tmp_path)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(
        executable_path=shutil.which("chromedriver")))
    try:
        with running(debug_config(db)) as url:
            driver.get(f"{url}/tracks/{gone}")
            deadline = time.monotonic() + 30
            note = ""
            while "no longer there" not in note and time.monotonic() < deadline:
                time.sleep(0.1)
                note = driver.execute_script(
                    "const n = document.getElementById('unavailable');"
                    " return n.hidden ? '' : n.textContent")
            assert note.startswith("Audio unavailable: gone.wav: the file is no longer there")
            assert driver.execute_script(
                "return document.getElementById('play').disabled")
    finally:
        driver.quit()
