"""Search by sound from the microphone in headless Chromium: record (Chromium's fake device
plays a beep), stop, the recording is uploaded to ``POST /v1/search`` and the nearest songs
are listed; without a microphone the page says what recording needs. Needs Debian's chromium
and chromium-driver, as ``test_browser.py`` does."""

from __future__ import annotations

import pytest
from conftest import running
from test_browser import CHROMIUM, DRIVER, pytestmark, wait_for, webdriver  # noqa: F401

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.scan import scan
from cantata.serve import ServeConfig
from cantata.testing import write_search_library

MATCHES = "[...document.querySelectorAll('#sound-results li a')]"
STATUS = "document.getElementById('sound-status').textContent"
NO_MIC = "recording needs https or localhost, and microphone permission"


@pytest.fixture(scope="module")
def microphone_browser():
    """Chromium with a fake microphone, allowed without asking."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio",
                 "--disable-dev-shm-usage", "--window-size=1200,1000",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=DRIVER))
    yield driver
    driver.quit()


def test_record_search_and_no_microphone(tmp_path, microphone_browser):
    browser = microphone_browser
    music = write_search_library(tmp_path / "music", noise_suffix=".wav")
    with Catalog(tmp_path / "catalog.db") as catalog:
        scan(music, catalog, resolve("embed=debug"))
    config = ServeConfig(db=tmp_path / "catalog.db", detect_model="debug-multilabel",
                         separate_model="debug", token="t0ken")
    with running(config) as site:
        browser.get(f"{site}/?token=t0ken")
        wait_for(browser, "document.querySelectorAll('#tracks tbody tr').length === 3")
        browser.find_element("id", "record").click()
        wait_for(browser, "!document.getElementById('record-stop').hidden")
        assert browser.execute_script(
            "return document.getElementById('by-sound').classList.contains('recording')")
        wait_for(browser, "document.getElementById('record-time').textContent"
                          " >= '0:02.0 / 0:10.0'")
        browser.find_element("id", "record-stop").click()
        # The clip went to /v1/search, whose answer names it; each match links to a passage.
        found = wait_for(browser, f"{MATCHES}.length === 3 && "
                                  f"{MATCHES}.map(a => a.getAttribute('href'))")
        assert all(href.startswith("/tracks/") and "?t=" in href for href in found)
        assert browser.execute_script(f"return {STATUS}").startswith("3 nearest to recording.")
        assert browser.execute_script(
            "return performance.getEntriesByType('resource')"
            ".filter(e => e.name.includes('/v1/search')).length") == 1
        assert not browser.find_element("id", "record").get_attribute("hidden")

        browser.execute_script("navigator.mediaDevices.getUserMedia = () => Promise.reject("
                               "new DOMException('refused', 'NotAllowedError'))")
        browser.find_element("id", "record").click()
        refused = wait_for(browser, f"{STATUS}.startsWith('{NO_MIC}') && {STATUS}")
        assert refused.endswith("the microphone was refused")
        browser.execute_script("Object.defineProperty(navigator, 'mediaDevices',"
                               " {value: undefined})")  # as on http from another host
        browser.find_element("id", "record").click()
        absent = wait_for(browser, f"{STATUS}.includes('(this page is') && {STATUS}")
        assert absent.startswith(NO_MIC)
