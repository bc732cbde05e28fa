"""The track page's defect lanes in headless Chromium, over a hand-made catalog.

Needs Debian's chromium and chromium-driver, as ``test_browser.py`` does.
"""

from __future__ import annotations

import soundfile as sf
from conftest import running
from test_browser import browser, pytestmark, wait_for  # noqa: F401  (fixture, marks)

from cantata.catalog import Catalog, Result, TrackFacts
from cantata.serve import ServeConfig
from cantata.testing import noise
from cantata.types import Segment

DEFECTS = (Segment(1.0, 1.002, "click", 0.97), Segment(4.5, 4.501, "click", 0.9),
           Segment(2.0, 2.3, "dropout", 0.8), Segment(6.0, 7.5, "clipping", 0.7))


def hand_made_catalog(root):
    """One 8 s track with singing regions and defect events, as the analyzers store them."""
    song = root / "song.wav"
    sf.write(str(song), noise(duration_s=8.0, sample_rate=16000).samples.T, 16000)
    detect = Result("detect", "2", "debug", "debug", {"vocal_s": 3.0},
                    (Segment(0.5, 3.5, "vocal", 0.9),))
    types = {t: sum(s.label == t for s in DEFECTS) for t in ("click", "dropout", "clipping")}
    defects = Result("defects", "1", "debug", "debug", {
        "defective": True, "score": 0.97, "types": types, "events": len(DEFECTS)}, DEFECTS)
    with Catalog(root / "catalog.db") as catalog:
        catalog.write_track(TrackFacts(str(song), "0" * 32, song.stat().st_size,
                                       song.stat().st_mtime_ns, duration_s=8.0,
                                       sample_rate=16000, channels=1), [detect, defects])
    return root / "catalog.db"


def test_track_page_draws_defect_lanes_that_seek(tmp_path, browser):  # noqa: F811
    config = ServeConfig(db=hand_made_catalog(tmp_path), detect_model="debug-multilabel",
                         separate_model="debug", token="t0ken")
    with running(config) as site:
        browser.get(f"{site}/?token=t0ken")
        browser.get(f"{site}/tracks/1")
        wait_for(browser, "document.getElementById('audio').readyState >= 1")
        lanes = browser.execute_script(
            "return [...document.querySelectorAll('.lane')].map(l => [l.dataset.group,"
            " l.dataset.label, [...l.querySelectorAll('.region')].map(r =>"
            " [r.getBoundingClientRect().width, getComputedStyle(r).backgroundColor])])")
        heading = browser.execute_script(
            "return document.querySelector('.lane-group').textContent")
        rows = browser.execute_script(
            "return [...document.querySelectorAll('#regions tbody tr')].map(r =>"
            " [...r.cells].map(c => c.textContent))")
        browser.execute_script("document.querySelector('.lane[data-label=clipping] .region')"
                               ".click()")
        wait_for(browser, "Math.abs(document.getElementById('audio').currentTime - 6) < 0.05")
    assert heading == "defects"
    assert [(g, label, len(r)) for g, label, r in lanes] == [
        ("detect", "vocal", 1), ("defects", "click", 2), ("defects", "dropout", 1),
        ("defects", "clipping", 1)]
    colours = {label: regions[0][1] for _, label, regions in lanes}
    assert len(set(colours.values())) == 4  # each type its own colour, none the vocal one
    assert all(width >= 3 for _, _, regions in lanes for width, _ in regions)  # 2 ms visible
    assert ["click", "defect", "0:01.000", "0:01.002", "0.97"] in rows
    assert sorted(r[0] for r in rows if r[1] == "defect") == sorted(s.label for s in DEFECTS)
    assert ["vocal", "singing", "0:00.5", "0:03.5", "0.90"] in rows
