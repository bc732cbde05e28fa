"""The track page's lyrics lane and karaoke view in headless Chromium, over a hand-made
catalog. Needs Debian's chromium and chromium-driver, as ``test_browser.py`` does.
"""

from __future__ import annotations

import soundfile as sf
from conftest import running
from test_browser import browser, pytestmark, wait_for  # noqa: F401  (fixture, marks)

from cantata.catalog import Catalog, Result, TrackFacts
from cantata.serve import ServeConfig
from cantata.testing import noise
from cantata.types import Segment

LINES = (Segment(1.0, 3.0, "Hello there my friend, a long line that cannot fit its block"),
         Segment(3.5, 5.0, "la la la"), Segment(5.5, 7.0, "no words stored here"))
WORDS = [[1.0, 1.4, "Hello"], [1.5, 1.9, "there"], [2.0, 2.3, "my"], [2.4, 2.6, "friend,"],
         [2.6, 2.7, "a"], [2.7, 2.8, "long"], [2.8, 2.85, "line"], [2.85, 2.9, "that"],
         [2.9, 2.93, "cannot"], [2.93, 2.96, "fit"], [2.96, 2.98, "its"], [2.98, 3.0, "block"],
         [3.5, 4.0, "la"], [4.0, 4.5, "la"], [4.5, 5.0, "la"]]
AUDIO = "document.getElementById('audio')"
STATE = "[window.player.lyrics.line, window.player.lyrics.word]"
NOW = ("[...document.querySelectorAll('#lyric-now .word')].map(w => w.textContent"
       " + (w.classList.contains('current') ? '*' : w.classList.contains('sung') ? '+' : ''))"
       ".join(' ')")


def lyrics_catalog(root):
    """One 8 s track with a vocal region and the lyrics analyzer's lines and words (the
    last line without words)."""
    song = root / "song.wav"
    sf.write(str(song), noise(duration_s=8.0, sample_rate=16000).samples.T * 0.1, 16000)
    detect = Result("detect", "2", "debug", "debug", {"vocal_s": 6.0},
                    (Segment(1.0, 7.0, "vocal", 0.9),))
    lyrics = Result("lyrics", "1", "debug", "debug", {
        "lyrics_file": str(root / "song.txt"), "language": None, "method": "aligned",
        "lines": len(LINES), "warnings": [], "words": WORDS}, LINES)
    with Catalog(root / "catalog.db") as catalog:
        catalog.write_track(TrackFacts(str(song), "0" * 32, song.stat().st_size,
                                       song.stat().st_mtime_ns, duration_s=8.0,
                                       sample_rate=16000, channels=1), [detect, lyrics])
    return root / "catalog.db"


def at(driver, seconds):
    """Seek the paused player and wait for the karaoke view to follow."""
    driver.execute_script(f"{AUDIO}.currentTime = {seconds}")
    wait_for(driver, f"Math.abs({AUDIO}.currentTime - {seconds}) < 0.01")
    driver.execute_script("return new Promise(r => requestAnimationFrame(() =>"
                          " requestAnimationFrame(r)))")
    return driver.execute_script(f"return [{STATE}, {NOW},"
                                 " document.getElementById('lyric-next').textContent,"
                                 " document.querySelector('.region.lyric.current')"
                                 "?.dataset.line ?? null]")


def test_lyrics_lane_and_karaoke_follow_the_player(tmp_path, browser):  # noqa: F811
    config = ServeConfig(db=lyrics_catalog(tmp_path), detect_model="debug-multilabel",
                         separate_model="debug", token="t0ken")
    with running(config) as site:
        browser.get(f"{site}/?token=t0ken")
        browser.get(f"{site}/tracks/1")
        wait_for(browser, f"{AUDIO}.readyState >= 1")
        lanes = browser.execute_script(
            "return [...document.querySelectorAll('.lane')].map(l => l.dataset.group)")
        blocks = browser.execute_script(
            "return [...document.querySelectorAll('.lane.lyrics .region.lyric')].map(b =>"
            " [b.textContent, getComputedStyle(b).textOverflow,"
            " b.scrollWidth > b.clientWidth, b.getBoundingClientRect().left])")
        assert not browser.execute_script("return document.getElementById('karaoke').hidden")
        start = at(browser, 0)
        first_word = at(browser, 1.7)
        repeated = at(browser, 4.2)
        after_line = at(browser, 5.2)
        no_words = at(browser, 6.0)

        at(browser, 2.05)  # playing: the word moves on with the clock
        browser.execute_script(f"{AUDIO}.play()")
        wait_for(browser, "window.player.lyrics.word === 3")
        browser.execute_script(f"{AUDIO}.pause()")

        browser.execute_script("document.querySelector('.region.lyric[data-line=\"1\"]')"
                               ".click()")
        wait_for(browser, f"Math.abs({AUDIO}.currentTime - 3.5) < 0.05")
        wait_for(browser, "window.player.lyrics.line === 1")
        browser.find_element("id", "lyric-next").click()
        wait_for(browser, f"Math.abs({AUDIO}.currentTime - 5.5) < 0.05")
        # the karaoke redraws its line after a seek: click the word it shows now (in the
        # page, so that no element found before a redraw is clicked after it)
        wait_for(browser, "window.player.lyrics.line === 2 && "
                          "document.querySelector('#lyric-now .word')")
        browser.execute_script("document.querySelector('#lyric-now .word').click()")
        wait_for(browser, f"Math.abs({AUDIO}.currentTime - 5.5) < 0.05")
        at(browser, 2.2)
        wait_for(browser, "document.querySelector(\"#lyric-now .word[data-word='1']\")")
        browser.execute_script(
            "document.querySelector(\"#lyric-now .word[data-word='1']\").click()")
        wait_for(browser, f"Math.abs({AUDIO}.currentTime - 1.5) < 0.05")

    assert lanes == ["detect", "lyrics"]
    assert [b[0] for b in blocks] == [line.label for line in LINES]
    assert all(b[1] == "ellipsis" for b in blocks) and blocks[0][2]  # long text: ellipsized
    assert blocks[0][3] < blocks[1][3] < blocks[2][3]
    long_line = " ".join(w[2] for w in WORDS[:12])
    assert start == [[-1, -1], long_line, "la la la", None]  # the first line, upcoming
    assert first_word[0] == [0, 1] and first_word[1].startswith("Hello+ there* my friend,")
    assert first_word[2:] == ["la la la", "0"]
    assert repeated == [[1, 1], "la+ la* la", "no words stored here", "1"]
    assert after_line == [[1, -1], "la+ la+ la+", "no words stored here", "1"]
    assert no_words == [[2, 0], "no words stored here*", "", "2"]
