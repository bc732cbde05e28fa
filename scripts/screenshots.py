#!/usr/bin/env python3
"""Take the README's screenshots of the web page: the catalog with its facet sidebar, search
by sound's results, and a track page with the player (stems, lanes) playing a stem solo.

It starts ``cantata serve`` on a free loopback port over a scanned catalog, cuts a few seconds
of one of the catalog's songs with ffmpeg as the search query, drives headless Chromium
(Selenium + Debian's chromium and chromium-driver) and writes three PNGs, reduced to a
256-colour palette to keep them small::

    .venv/bin/cantata scan MUSIC_DIR --db /tmp/cat/catalog.db   # the default analyzers
    .venv/bin/python scripts/screenshots.py --db /tmp/cat/catalog.db \
        --query MUSIC_DIR/karissa-hobbs-lets-go-fishin-30s.ogg [--start 8] [--out docs]

writes ``OUT/serve-catalog.png``, ``OUT/serve-search.png`` and ``OUT/serve-track.png``
(replacing them). The README's screenshots are of ``examples/`` plus the studio mix
``bearlin-roads``, three MIR-1K songs (vocals and accompaniment mixed) and a damaged copy of
an example song (clicks, clipping, a 96 kbit/s MP3), scanned with the default analyzers.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from selenium import webdriver


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a scanned catalog (with embed)")
    parser.add_argument("--query", type=Path, required=True,
                        help="a song of the catalog: a few seconds of it are the query")
    parser.add_argument("--start", type=float, default=8.0, help="where the query starts (s)")
    parser.add_argument("--seconds", type=float, default=5.0, help="the query's length")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--size", default="1400x900", help="the window, WIDTHxHEIGHT")
    args = parser.parse_args()
    for need in ("ffmpeg", "chromium", "chromedriver"):
        if shutil.which(need) is None:
            parser.error(f"needs {need} on the PATH")
    if not args.db.is_file():
        parser.error(f"{args.db}: no such catalog")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cantata-shots-") as scratch:
        clip = Path(scratch) / f"{args.query.stem}-{args.seconds:g}s.wav"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-ss", str(args.start), "-t",
                        str(args.seconds), "-i", str(args.query), str(clip)], check=True)
        with serving(args.db) as site, chromium(args.size) as browser:
            shoot(browser, site, clip, args.out)
    return 0


def shoot(browser: webdriver.Chrome, site: str, clip: Path, out: Path) -> None:
    browser.get(f"{site}/")
    wait_for(browser, "document.querySelectorAll('#tracks tbody tr').length > 0 &&"
                      " document.querySelectorAll('.facet button').length > 0")
    save(browser, out / "serve-catalog.png")

    browser.find_element("id", "sound-file").send_keys(str(clip))
    wait_for(browser, "document.querySelectorAll('#sound-results li').length > 0")
    save(browser, out / "serve-search.png")

    browser.find_element("css selector", "#sound-results li a").click()
    wait_for(browser, "location.pathname.startsWith('/tracks/') &&"
                      " document.getElementById('wave').dataset.drawn &&"
                      " document.querySelectorAll('.stem').length > 0")
    browser.execute_script("document.getElementById('audio').play()")
    wait_for(browser, "!document.getElementById('audio').paused")
    solo = browser.find_elements("css selector", ".stem[data-stem=vocals] .solo")
    if solo:
        solo[0].click()
    time.sleep(1.5)  # the playhead moves on a little
    browser.execute_script("document.getElementById('audio').pause()")
    save(browser, out / "serve-track.png")


def save(browser: webdriver.Chrome, path: Path) -> None:
    """The window's screenshot, as a 256-colour PNG."""
    png = path.with_suffix(".full.png")
    browser.save_screenshot(str(png))
    with Image.open(png) as image:
        image.convert("RGB").quantize(256).save(path, optimize=True)
    png.unlink()
    print(f"{path}: {path.stat().st_size // 1000} kB")


class serving:
    """``cantata serve --db DB`` on a free loopback port, for the ``with`` block."""

    def __init__(self, db: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        cantata = Path(sys.executable).with_name("cantata")
        self.process = subprocess.Popen([str(cantata), "serve", "--db", str(db), "--port",
                                         str(self.port), "-q"])

    def __enter__(self) -> str:
        site = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"cantata serve exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(f"{site}/healthz", timeout=2).close()
                return site
            except OSError:
                time.sleep(0.3)
        self.process.terminate()
        raise SystemExit("cantata serve did not answer in 120 s")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(10)


class chromium:
    """Headless Chromium at the given window size, for the ``with`` block."""

    def __init__(self, size: str) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio",
                     "--hide-scrollbars", "--disable-dev-shm-usage",
                     "--autoplay-policy=no-user-gesture-required",
                     f"--window-size={size.replace('x', ',')}"):
            options.add_argument(flag)
        service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
        self.driver = webdriver.Chrome(options=options, service=service)

    def __enter__(self) -> webdriver.Chrome:
        return self.driver

    def __exit__(self, *exc: object) -> None:
        self.driver.quit()


def wait_for(browser: webdriver.Chrome, script: str, timeout: float = 60.0) -> object:
    """Poll a JavaScript expression until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = browser.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for: {script}")


if __name__ == "__main__":
    sys.exit(main())
