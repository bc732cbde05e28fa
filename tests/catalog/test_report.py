"""``cantata catalog report``: the catalog-wide defects report, one self-contained HTML file."""

from __future__ import annotations

import base64
import json
import re

import pytest

from cantata.catalog import Catalog, Result, TrackFacts
from cantata.catalog.report import defect_stats, write_report
from cantata.cli import main
from cantata.errors import CantataError
from cantata.files import OutputExistsError
from cantata.types import Segment

TYPES = ("click", "dropout", "clipping", "codec", "noise_burst", "discontinuity", "dc_offset")


def defects_result(events: list[tuple[str, float, float]], score: float) -> Result:
    """A ``defects`` result as the analyzer stores it."""
    counts = {t: sum(1 for e in events if e[0] == t) for t in TYPES}
    return Result("defects", "1", "debug", "debug", {
        "defective": bool(events), "score": score, "types": counts, "events": len(events)},
        tuple(Segment(s, e, t, 0.9) for t, s, e in events))


def add(catalog: Catalog, name: str, results: list[Result]) -> int:
    facts = TrackFacts(f"/music/{name}", name.encode().hex()[:32].ljust(32, "0"), 100, 1,
                       duration_s=30.0, sample_rate=44100, channels=2)
    return catalog.write_track(facts, results)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "catalog.db"
    with Catalog(path) as catalog:
        add(catalog, "clean.wav", [defects_result([], 0.1)])
        add(catalog, "clicky <b>.wav", [defects_result(
            [("click", 1.0, 1.002), ("click", 5.0, 5.001), ("dropout", 9.0, 9.2)], 0.97)])
        add(catalog, "clipped.wav", [defects_result([("clipping", 3.0, 4.5)], 0.8)])
        add(catalog, "unscanned.wav", [])
    return path


def test_stats_count_types_share_and_worst(db):
    with Catalog(db, create=False) as catalog:
        stats = defect_stats(catalog)
    assert (stats.tracks, stats.analyzed, stats.defective) == (4, 3, 2)
    assert stats.events == {**dict.fromkeys(TYPES, 0), "click": 2, "dropout": 1, "clipping": 1}
    assert stats.tracks_with == {**dict.fromkeys(TYPES, 0), "click": 1, "dropout": 1,
                                 "clipping": 1}
    assert [t.path for t in stats.worst] == ["/music/clicky <b>.wav", "/music/clipped.wav"]
    assert stats.worst[0].types["click"] == 2


def test_report_is_self_contained_with_links_and_histogram(db, tmp_path):
    dest = tmp_path / "out" / "report.html"
    with Catalog(db, create=False) as catalog:
        written = write_report(catalog, dest, base_url="http://music.lan:9000/")
    assert (written.html, written.png) == (dest, dest.with_suffix(".png"))
    page = dest.read_text(encoding="utf-8")
    # nothing is fetched from elsewhere: no external scripts, styles, fonts or images
    assert not re.search(r"<script[^>]*src|<link|@import|url\(", page, re.I)
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    png = base64.b64decode(sources[0].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == dest.with_suffix(".png").read_bytes()
    links = re.findall(r'href="([^"]*)"', page)
    assert "http://music.lan:9000/tracks/2" in links and "http://music.lan:9000/tracks/3" in links
    assert all(link.startswith("http://music.lan:9000/tracks/") for link in links)
    assert "clicky &lt;b&gt;.wav" in page and "<b>.wav" not in page  # escaped
    assert "2 of 3" in page and "67%" in page  # share of analyzed tracks defective


def test_report_refuses_existing_files_without_overwrite(db, tmp_path):
    dest = tmp_path / "report.html"
    dest.with_suffix(".png").write_bytes(b"mine")
    with Catalog(db, create=False) as catalog, pytest.raises(OutputExistsError, match="png"):
        write_report(catalog, dest)
    assert not dest.exists() and dest.with_suffix(".png").read_bytes() == b"mine"
    with Catalog(db, create=False) as catalog:
        write_report(catalog, dest, overwrite=True)
    assert dest.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_report_named_png_is_refused(db, tmp_path):
    with Catalog(db, create=False) as catalog, pytest.raises(CantataError, match="name it"):
        write_report(catalog, tmp_path / "report.PNG")
    assert not list(tmp_path.glob("report*"))


def test_report_without_defects_results_says_how_to_get_them(tmp_path):
    db = tmp_path / "catalog.db"
    with Catalog(db) as catalog:
        add(catalog, "song.wav", [])
        written = write_report(catalog, tmp_path / "report.html")
    html_path, png = written.html, written.png
    assert png is None and not (tmp_path / "report.png").exists()
    page = html_path.read_text(encoding="utf-8")
    assert "no defects results" in page and "cantata scan LIBRARY --analyzers defects" in page
    assert "0 of 0" not in page


def test_cli_report(db, tmp_path, capsys):
    dest = tmp_path / "report.html"
    assert main(["catalog", "report", "--db", str(db), "-o", str(dest), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"file": str(dest), "png": str(dest.with_suffix(".png")), "tracks": 4,
                   "analyzed": 3, "defective": 2}
    assert "http://127.0.0.1:8000/tracks/2" in dest.read_text(encoding="utf-8")
    assert main(["catalog", "report", "--db", str(db), "-o", str(dest)]) == 2
    assert "file exists (use --overwrite" in capsys.readouterr().err
    assert main(["catalog", "report", "--db", str(db), "-o", str(dest), "--overwrite"]) == 0
