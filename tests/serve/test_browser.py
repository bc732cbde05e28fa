"""The web page in headless Chromium: the table, the track page's lanes, playback, a stem solo.

Needs Debian's chromium and chromium-driver (``make test`` installs them). Set
``CANTATA_SCREENSHOT=PATH`` to keep the track page's screenshot (of a temporary catalog; the
README's ``docs/serve-track.png`` is of a real one, as its caption says).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import running

from cantata.analyzers import resolve
from cantata.catalog import Catalog
from cantata.scan import scan
from cantata.serve import ServeConfig

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                 reason="needs Debian's chromium and chromium-driver"),
              pytest.mark.slow]
EXAMPLE = Path(__file__).parents[2] / "examples" / "karissa-hobbs-lets-go-fishin-30s.ogg"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A server over a catalog of the example song, scanned with the shipped models."""
    root = tmp_path_factory.mktemp("browser")
    (root / "music").mkdir()
    shutil.copy(EXAMPLE, root / "music" / EXAMPLE.name)
    with Catalog(root / "catalog.db") as catalog:
        scan(root / "music", catalog, resolve("detect=singing-multilabel,separate"))
    with running(ServeConfig(db=root / "catalog.db", token="t0ken")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio",
                 "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
                 "--window-size=1200,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=DRIVER))
    yield driver
    driver.quit()


def wait_for(driver, script, timeout=30.0):
    """Poll a JavaScript expression until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def test_catalog_table_lists_and_searches(site, browser):
    browser.get(f"{site}/?token=t0ken")
    wait_for(browser, "document.querySelectorAll('#tracks tbody tr').length === 1")
    assert EXAMPLE.name in browser.find_element("css selector", "#tracks tbody").text
    browser.find_element("id", "search").send_keys("no such song")
    wait_for(browser, "document.getElementById('page').textContent === 'no tracks'")


def test_track_page_lanes_playback_and_stems(site, browser):
    browser.get(f"{site}/?token=t0ken")  # sets the cookie the page's requests use
    browser.get(f"{site}/tracks/1")
    wait_for(browser, "document.getElementById('wave').dataset.drawn === '1200'")
    lanes = browser.execute_script(
        "return [...document.querySelectorAll('.lane')].map(l => [l.dataset.label,"
        " l.querySelectorAll('.region').length, l.getBoundingClientRect().width])")
    labels = {label for label, _, _ in lanes}
    assert labels <= {"vocal", "accompaniment", "silence"} and "vocal" in labels
    assert all(count > 0 and width > 500 for _, count, width in lanes)
    table_rows = browser.execute_script("return document.querySelectorAll('#regions tbody tr')"
                                        ".length")
    assert table_rows == sum(count for _, count, _ in lanes)

    browser.execute_script("document.getElementById('audio').play()")
    wait_for(browser, "document.getElementById('audio').currentTime > 0.5")
    browser.find_element("css selector", ".stem[data-stem=vocals] .solo").click()
    vocals = "document.querySelector('audio[data-stem=vocals]')"
    position = wait_for(browser, f"!{vocals}.paused && {vocals}.volume === 1 &&"
                                 f" {vocals}.currentTime")
    assert position > 0.5  # joined the mix at its place, and plays alone
    assert browser.execute_script("return document.getElementById('audio').volume") == 0
    if os.environ.get("CANTATA_SCREENSHOT"):
        browser.save_screenshot(os.environ["CANTATA_SCREENSHOT"])
