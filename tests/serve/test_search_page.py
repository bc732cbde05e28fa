"""Search by sound and similar tracks in headless Chromium: pick a clip on the catalog page,
open the best match at its passage, see the track's similar tracks. Needs Debian's
chromium and chromium-driver, as ``test_browser.py`` does."""

from __future__ import annotations

import soundfile as sf
from conftest import running
from test_browser import browser, pytestmark, wait_for  # noqa: F401  (fixture, marks)

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.scan import scan
from cantata.serve import ServeConfig
from cantata.testing import sine, write_search_library

RATE = 16000
MATCHES = ("[...document.querySelectorAll('#sound-results li a')].map(a =>"
           " [a.textContent, a.getAttribute('href')])")


def test_search_by_sound_and_similar_tracks(tmp_path, browser):  # noqa: F811
    music = write_search_library(tmp_path / "music", sample_rate=RATE, noise_suffix=".wav")
    with Catalog(tmp_path / "catalog.db") as catalog:
        scan(music, catalog, resolve("embed=debug"))
    query = tmp_path / "clip.wav"
    sf.write(str(query), sine(330, duration_s=3).samples[0], RATE)  # the 330 Hz passage
    config = ServeConfig(db=tmp_path / "catalog.db", detect_model="debug-multilabel",
                         separate_model="debug", token="t0ken")
    with running(config) as site:
        browser.get(f"{site}/?token=t0ken")
        wait_for(browser, "document.querySelectorAll('#tracks tbody tr').length === 3")
        browser.find_element("css selector", "#sound-file").send_keys(str(query))
        found = wait_for(browser, f"{MATCHES}.length === 3 && {MATCHES}")
        assert found[0][0] == "tones.wav"
        track, at = found[0][1].removeprefix("/tracks/").split("?t=")
        assert abs(float(at) - 3.0) < 0.01
        status = browser.execute_script(
            "return document.getElementById('sound-status').textContent")
        assert status.startswith("3 nearest to clip.wav")

        browser.find_element("css selector", "#sound-results li a").click()
        wait_for(browser, f"location.pathname === '/tracks/{track}'")
        wait_for(browser, "Math.abs(document.getElementById('audio').currentTime - 3) < 0.1")
        similar = wait_for(browser, "!document.getElementById('similar').hidden &&"
                                    " [...document.querySelectorAll('#similar-list li a')]"
                                    ".map(a => a.textContent)")
        assert sorted(similar) == ["noise.wav", "sweeps.wav"]
        browser.find_element("css selector", "#like-passage").click()
        what = wait_for(browser, "document.getElementById('similar-what').textContent")
        assert what == "like 0:03.0–0:09.0"  # from the playhead to the end
        browser.find_element("css selector", "#like-track").click()
        wait_for(browser, "document.getElementById('similar-what').textContent === ''")
