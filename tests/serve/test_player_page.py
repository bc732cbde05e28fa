"""The track page's player in headless Chromium: time axis, spectrogram view, stem rows with
solo and mute, keys. Needs Debian's chromium and chromium-driver, as ``test_browser.py``
does."""

from __future__ import annotations

import pytest
from conftest import running
from test_browser import browser, pytestmark, wait_for  # noqa: F401  (fixture, marks)
from test_player_routes import player_catalog, player_config

webdriver = pytest.importorskip("selenium.webdriver")
Keys = webdriver.Keys

AUDIO = "document.getElementById('audio')"
GAINS = ("Object.fromEntries([...document.querySelectorAll('.stem')].map(r =>"
         " [r.dataset.stem, r.dataset.gain]))")


def press(driver, key, shift=False):
    """Send a key to the focused element (with shift held)."""
    chain = webdriver.ActionChains(driver)
    if shift:
        chain.key_down(Keys.SHIFT)
    chain.send_keys(key)
    if shift:
        chain.key_up(Keys.SHIFT)
    chain.perform()


def test_player_spectrogram_solo_mute_and_keys(tmp_path, browser):  # noqa: F811
    with running(player_config(player_catalog(tmp_path, seconds=40.0))) as site:
        browser.get(f"{site}/?token=t0ken")
        browser.get(f"{site}/tracks/1")
        wait_for(browser, "document.getElementById('wave').dataset.drawn === '1200'")
        wait_for(browser, "document.querySelectorAll('.stem canvas[data-drawn]').length === 2")
        ticks = browser.execute_script(
            "return [...document.querySelectorAll('#axis .tick')].map(t => t.textContent)")
        assert ticks[:3] == ["0:00", "0:05", "0:10"] and ticks[-1] == "0:40"
        missing = wait_for(browser, "document.querySelector('.stem[data-missing=true]')"
                                    "?.textContent")
        assert missing.startswith("drums") and "no longer there" in missing

        browser.find_element("css selector", "[data-view=spectrogram]").click()
        wait_for(browser, "document.getElementById('spectrogram').naturalWidth > 0")
        assert browser.execute_script("return document.getElementById('wave').hidden")

        assert browser.execute_script(f"return {GAINS}") == {
            "vocals": "0.00", "accompaniment": "0.00", "drums": "0.00"}  # all mix
        browser.find_element("css selector", ".stem[data-stem=vocals] .solo").click()
        assert browser.execute_script(f"return {GAINS}") == {
            "vocals": "1.00", "accompaniment": "0.00", "drums": "0.00"}
        assert browser.execute_script(
            f"return [{AUDIO}.volume, window.player.crossfade, window.player.solo]") == [
            0, 1, "vocals"]

        press(browser, " ")  # the focused solo button does not take it
        wait_for(browser, f"!{AUDIO}.paused && {AUDIO}.currentTime > 0.2")
        wait_for(browser, "!document.querySelector('audio[data-stem=vocals]').paused")
        assert browser.execute_script(
            "return document.querySelector('audio[data-stem=accompaniment]').paused")
        assert browser.execute_script("return window.player.solo") == "vocals"
        press(browser, " ")
        wait_for(browser, f"{AUDIO}.paused")
        before = browser.execute_script(f"return {AUDIO}.currentTime")
        press(browser, Keys.ARROW_RIGHT)
        wait_for(browser, f"Math.abs({AUDIO}.currentTime - {before + 5}) < 0.05")
        press(browser, Keys.ARROW_RIGHT, shift=True)
        wait_for(browser, f"Math.abs({AUDIO}.currentTime - {before + 35}) < 0.05")
        press(browser, Keys.ARROW_LEFT)
        wait_for(browser, f"Math.abs({AUDIO}.currentTime - {before + 30}) < 0.05")
        press(browser, Keys.END)
        wait_for(browser, f"{AUDIO}.currentTime > 39.9")
        wait_for(browser, "parseFloat(document.getElementById('playhead').style.left) > 99")
        press(browser, Keys.HOME)
        wait_for(browser, f"{AUDIO}.currentTime === 0")

        browser.find_element("css selector", ".stem[data-stem=vocals] .solo").click()
        browser.find_element("css selector", ".stem[data-stem=vocals] .mute").click()
        assert browser.execute_script(f"return {GAINS}") == {
            "vocals": "0.00", "accompaniment": "1.00", "drums": "0.00"}
        slider = browser.find_element("id", "crossfade")
        browser.execute_script("arguments[0].value = '0.25';"
                               " arguments[0].dispatchEvent(new Event('input'))", slider)
        assert browser.execute_script(f"return [{AUDIO}.volume, {GAINS}.accompaniment]") == [
            0.75, "0.25"]
        link = browser.find_element("css selector", ".stem[data-stem=vocals] .download")
        assert link.get_attribute("href").endswith("/v1/tracks/1/stems/vocals")


def restored_catalog(root):
    """The player's track with a restored copy from the restore analyzer."""
    import soundfile as sf
    from test_player_routes import RATE, tones

    from cantata.catalog import Catalog, Result, TrackFacts

    song = root / "song.wav"
    sf.write(str(song), tones(12.0, 440, 3000), RATE)
    restored = root / "restored.flac"
    sf.write(str(restored), 0.9 * tones(12.0, 440, 3000), RATE)
    separate = Result("separate", "1", "debug", "debug", {},
                      stems={"vocals": str(song), "accompaniment": str(song)})
    restore = Result("restore", "1", "debug", "debug", {"clicks": 0, "strength": 1.0},
                     stems={"restored": str(restored)})
    with Catalog(root / "catalog.db") as catalog:
        catalog.write_track(TrackFacts(str(song), "2" * 32, song.stat().st_size,
                                       song.stat().st_mtime_ns, duration_s=12.0,
                                       sample_rate=RATE, channels=1), [separate, restore])
    return root / "catalog.db"


def test_ab_switch_between_the_original_and_the_restored_copy(tmp_path, browser):  # noqa: F811
    with running(player_config(restored_catalog(tmp_path))) as site:
        browser.get(f"{site}/?token=t0ken")
        browser.get(f"{site}/tracks/1")
        wait_for(browser, "document.querySelectorAll('.stem canvas[data-drawn]').length === 3")
        ab = browser.find_element("id", "ab")
        assert ab.is_displayed() and ab.get_attribute("aria-pressed") == "false"
        ab.click()
        assert ab.get_attribute("aria-pressed") == "true"
        assert browser.execute_script(f"return [{AUDIO}.volume, {GAINS}]") == [
            0, {"vocals": "0.00", "accompaniment": "0.00", "restored": "1.00"}]
        browser.execute_script("document.activeElement.blur()")
        press(browser, "r")
        assert ab.get_attribute("aria-pressed") == "false"
        assert browser.execute_script(f"return [{AUDIO}.volume, {GAINS}]") == [
            1, {"vocals": "0.00", "accompaniment": "0.00", "restored": "0.00"}]


def test_no_ab_switch_without_a_restored_copy(tmp_path, browser):  # noqa: F811
    with running(player_config(player_catalog(tmp_path))) as site:
        browser.get(f"{site}/?token=t0ken")
        browser.get(f"{site}/tracks/1")
        wait_for(browser, "document.querySelectorAll('.stem canvas[data-drawn]').length === 2")
        assert not browser.find_element("id", "ab").is_displayed()
