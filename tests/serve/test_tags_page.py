"""Tags on the page in headless Chromium: chips on the track page, the facet on the
catalog page. Needs Debian's chromium and chromium-driver, as ``test_browser.py`` does."""

from __future__ import annotations

import soundfile as sf
from conftest import running
from test_browser import browser, pytestmark, wait_for  # noqa: F401  (fixture, marks)
from test_tags_http import tag_result

from cantata.catalog import Catalog, TrackFacts
from cantata.serve import ServeConfig
from cantata.testing import noise

SONGS = (("ballad.wav", (0.9, 0.2, 0.1, 0.8)), ("anthem.wav", (0.1, 0.95, 0.9, 0.7)),
         ("etude.wav", (0.99, 0.1, 0.05, 0.1)), ("hum.wav", (0.3, 0.2, 0.1, 0.4)))
ROWS = "[...document.querySelectorAll('#tracks tbody tr td:nth-child(2)')].map(c => c.textContent)"
FACET = ("[...document.querySelectorAll('#tag-buttons button')].map(b =>"
         " [b.dataset.tag, b.querySelector('.count').textContent, b.getAttribute('aria-pressed')])")


def tagged_catalog(root):
    """Four short tracks with ``tag`` results (one with no tag present)."""
    with Catalog(root / "catalog.db") as catalog:
        for name, scores in SONGS:
            song = root / name
            sf.write(str(song), noise(duration_s=1.0, sample_rate=16000).samples.T, 16000)
            catalog.write_track(TrackFacts(str(song), name, song.stat().st_size,
                                           song.stat().st_mtime_ns, duration_s=1.0,
                                           sample_rate=16000, channels=1),
                                [tag_result(scores)])
    return root / "catalog.db"


def test_tag_chips_and_the_tag_facet(tmp_path, browser):  # noqa: F811
    config = ServeConfig(db=tagged_catalog(tmp_path), detect_model="debug-multilabel",
                         separate_model="debug", token="t0ken")
    with running(config) as site:
        browser.get(f"{site}/?token=t0ken")
        wait_for(browser, "document.querySelectorAll('#tag-buttons button').length === 4")
        facet = browser.execute_script(f"return {FACET}")
        assert facet == [["piano", "2", "false"], ["vocal", "2", "false"],
                         ["guitar", "1", "false"], ["rock", "1", "false"]]
        assert browser.execute_script(f"return {ROWS}") == [
            "anthem.wav", "ballad.wav", "etude.wav", "hum.wav"]
        chips = browser.execute_script(
            "return [...document.querySelectorAll('#tracks tbody tr')].map(r =>"
            " [...r.querySelectorAll('.chip')].map(c => c.textContent))")
        assert chips == [["guitar", "rock", "vocal"], ["piano", "vocal"], ["piano"], []]

        browser.find_element("css selector", "#tag-buttons button[data-tag=vocal]").click()
        wait_for(browser, f"{ROWS}.join() === 'anthem.wav,ballad.wav'")
        browser.find_element("css selector", "#tag-buttons button[data-tag=piano]").click()
        wait_for(browser, f"{ROWS}.join() === 'ballad.wav'")
        wait_for(browser, "document.getElementById('page').textContent === '1–1 of 1'")
        assert browser.execute_script("return location.search") == "?tag=vocal&tag=piano"
        facet = wait_for(browser, f"{FACET}.length === 2 && {FACET}")
        assert facet == [["piano", "1", "true"], ["vocal", "1", "true"]]
        browser.find_element("css selector", "#tag-buttons button[data-tag=vocal]").click()
        wait_for(browser, f"{ROWS}.join() === 'ballad.wav,etude.wav'")

        browser.get(f"{site}/tracks/2")  # anthem
        wait_for(browser, "document.querySelectorAll('#tag-chips .chip').length === 3")
        shown = browser.execute_script(
            "return [...document.querySelectorAll('#tag-chips .chip')].map(c =>"
            " [c.textContent, c.title])")
        assert shown == [["guitar", "guitar: score 0.95"], ["rock", "rock: score 0.90"],
                         ["vocal", "vocal: score 0.70"]]
        browser.find_element("css selector", "#tag-chips .chip[data-tag=rock]").click()
        wait_for(browser, f"{ROWS}.join() === 'anthem.wav'")  # the catalog, filtered by it

        browser.get(f"{site}/tracks/4")  # hum: nothing present
        text = wait_for(browser, "!document.getElementById('tags').hidden &&"
                                 " document.getElementById('tag-chips').textContent")
        assert text == "no tag present (highest: vocal 0.40, piano 0.30, guitar 0.20)"
