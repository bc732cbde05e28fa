"""The catalog page's facets in headless Chromium: filter by a tag and a defect type, sort a
column, the view restored from the URL on reload and walked back. Needs Debian's chromium
and chromium-driver, as ``test_browser.py`` does."""

from __future__ import annotations

from conftest import running
from test_browser import browser, pytestmark, wait_for  # noqa: F401  (fixture, marks)
from test_facets_route import write  # the tiny catalog of tests/catalog/test_facets.py

from cantata.catalog import Catalog
from cantata.serve import ServeConfig

ROWS = "[...document.querySelectorAll('#tracks tbody tr td:nth-child(2)')].map(c => c.textContent)"


def rows_are(names):
    return f"{ROWS}.join() === '{','.join(names)}'"


def test_filter_by_facets_sort_and_the_url(tmp_path, browser):  # noqa: F811
    with Catalog(tmp_path / "c.db") as catalog:
        write(catalog)
    config = ServeConfig(db=tmp_path / "c.db", detect_model="debug-multilabel",
                         separate_model="debug", token="t0ken")
    with running(config) as site:
        browser.get(f"{site}/?token=t0ken")
        wait_for(browser, rows_are(["anthem.wav", "ballad.wav", "broken.mp3", "drone.wav",
                                    "etude.wav"]))
        defects = ".facet[data-facet=defect_types] button"
        counts = wait_for(browser, f"document.querySelectorAll('{defects}').length === 2 && "
                                   f"[...document.querySelectorAll('{defects}')].map(b =>"
                                   f" b.textContent)")
        assert counts == ["click 2", "dropout 1"]
        browser.find_element("css selector", "#tag-buttons button[data-tag=vocal]").click()
        wait_for(browser, rows_are(["anthem.wav", "ballad.wav"]))
        browser.find_element("css selector", f"{defects}[data-value=click]").click()
        wait_for(browser, rows_are(["anthem.wav"]))
        assert browser.execute_script("return location.search") == "?tag=vocal&defect_type=click"
        browser.find_element("css selector", f"{defects}[data-value=click]").click()
        wait_for(browser, rows_are(["anthem.wav", "ballad.wav"]))
        grade = browser.find_element("css selector", "th[data-sort=quality]")
        grade.click()
        wait_for(browser, "location.search === '?tag=vocal&sort=quality'")
        grade.click()
        wait_for(browser, rows_are(["anthem.wav", "ballad.wav"]))  # C before A
        assert browser.execute_script("return location.search") == (
            "?tag=vocal&sort=quality&desc=true")

        browser.refresh()  # the view comes back from the URL
        wait_for(browser, "document.querySelector('th[data-sort=quality]')"
                          ".getAttribute('aria-sort') === 'descending'")
        wait_for(browser, rows_are(["anthem.wav", "ballad.wav"]))
        wait_for(browser, "document.querySelector('#tag-buttons button[data-tag=vocal]')"
                          "?.getAttribute('aria-pressed') === 'true'")
        browser.back()  # ascending again: A before C
        wait_for(browser, "location.search === '?tag=vocal&sort=quality'")
        wait_for(browser, rows_are(["ballad.wav", "anthem.wav"]))
        browser.back()
        browser.back()
        wait_for(browser, rows_are(["anthem.wav"]))  # tag and defect, as before
