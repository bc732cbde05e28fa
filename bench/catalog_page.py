"""Latency of the catalog page's requests at 100,000 tracks: ``GET /v1/tracks`` (a page of
50, several sorts and filters) and ``GET /v1/facets``, through FastAPI's TestClient.

The synthetic catalog holds results in the stored shapes of the real analyzers — ``detect``
(summary and singing regions), ``defects`` (verdict, per-type counts, event regions),
``assess`` (the ``cantata assess`` report), ``tag`` (every tag scored, those present),
``separate`` (stems on a third of the tracks) — written by the catalog's own write path
(``cantata.catalog.db._insert_result``, what ``Catalog.write_track`` runs, in one
transaction for speed). It is kept at ``--db`` and reused when it is there.

    python bench/catalog_page.py --record docs/catalog.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from _report import machine, markers, record
from cantata.catalog import Catalog, Result
from cantata.catalog.db import _insert_result, now
from cantata.data.labels import DEFECT_TYPES
from cantata.serve import ServeConfig, create_app
from cantata.types import Segment

MARK_BEGIN, MARK_END = markers("catalog_page")
TAGS = ("acoustic", "ambient", "choir", "dance", "duet", "electronic", "female vocal",
        "folk", "guitar", "instrumental", "jazz", "live", "male vocal", "orchestral",
        "piano", "rap", "rock", "sad", "spoken", "upbeat")
GRADES = "ABCDEF"
QUERIES = (
    ("page, by path", "/v1/tracks?limit=50"),
    ("page 1000, by path", "/v1/tracks?limit=50&offset=50000"),
    ("by quality", "/v1/tracks?limit=50&sort=quality"),
    ("by singing, desc", "/v1/tracks?limit=50&sort=vocal_s&desc=true"),
    ("by tags", "/v1/tracks?limit=50&sort=tags"),
    ("by stems", "/v1/tracks?limit=50&sort=stems&desc=true"),
    ("by LUFS", "/v1/tracks?limit=50&sort=loudness_lufs"),
    ("tag", "/v1/tracks?limit=50&tag=jazz"),
    ("tag + defect + grade", "/v1/tracks?limit=50&tag=rock&defect_type=click&grade=C&grade=D"),
    ("ranges, by duration", "/v1/tracks?limit=50&lufs_min=-16&lufs_max=-8&vocal_min=0.25"
                            "&duration_min=180&sort=duration_s"),
    ("search", "/v1/tracks?limit=50&search=0042"),
    ("facets", "/v1/facets"),
    ("facets, tag", "/v1/facets?tag=jazz"),
    ("facets, tag + grade + range", "/v1/facets?tag=rock&grade=B&lufs_min=-16&lufs_max=-12"),
    ("facets, defect + quality", "/v1/facets?defect_type=click&quality=clipped"),
    ("facets, search", "/v1/facets?search=0042"),
)


def assess_summary(rng: np.random.Generator, lufs: float, duration: float) -> dict:
    """A ``cantata assess`` report in its stored shape (without ``file``)."""
    transcoded, runs = bool(rng.random() < 0.1), int(rng.poisson(0.3))
    gain = round(-14.0 - lufs, 1)
    return {
        "duration_s": duration, "bandwidth_hz": int(rng.choice([16000, 19500, 22050])),
        "lossy": {"transcoded": transcoded, "codec": "mp3" if transcoded else None,
                  "bitrate_class": "128k" if transcoded else None,
                  "confidence": round(float(rng.random()), 3), "evidence": None},
        "upsampled": False, "upsampled_from_hz": None, "padded": None,
        "loudness": {"integrated_lufs": lufs, "range_lu": round(float(rng.uniform(3, 15)), 1),
                     "true_peak_dbtp": round(float(rng.uniform(-3, 0.5)), 1),
                     "sample_peak_dbfs": round(float(rng.uniform(-3, 0)), 1),
                     "plr_db": round(float(rng.uniform(6, 18)), 1),
                     "targets": {"streaming": {"ok": abs(gain) <= 1, "gain_db": gain},
                                 "broadcast": {"ok": False, "gain_db": round(-23 - lufs, 1)}}},
        "clipping": {"runs": runs, "seconds": round(runs * 0.002, 4), "worst_s": 0.001 * runs},
        "dc_offset": 0.0001, "stereo": {"correlation": 0.8, "mono_loss_db": 0.5,
                                        "dual_mono": False, "inverted": False},
        "silence": {"head_s": 0.1, "tail_s": 0.5}, "truncated": False,
        "pcm_hash": f"{rng.integers(2 ** 62):016x}", "duplicates": [], "defects": None,
        "grade": str(rng.choice(list(GRADES), p=[0.4, 0.25, 0.15, 0.1, 0.06, 0.04])),
        "reasons": ["clipped in places"] if runs else []}


def results_of(rng: np.random.Generator, duration: float, lufs: float) -> list[Result]:
    vocal_regions, t = [], 0.0
    while t < duration:
        start = t + float(rng.uniform(2, 30))
        end = min(duration, start + float(rng.uniform(5, 60)))
        if start < end:
            vocal_regions.append(Segment(start, end, "vocal", 1.0))
        t = end
    vocal_s = round(sum(r.duration_s for r in vocal_regions), 3)
    events = [Segment(s, s + 0.01, str(rng.choice(DEFECT_TYPES)), 0.9)
              for s in sorted(rng.uniform(0, duration, int(rng.poisson(0.6))))]
    types = {name: sum(e.label == name for e in events) for name in DEFECT_TYPES}
    scores = rng.beta(0.5, 2.0, len(TAGS))
    ranked = sorted(({"tag": name, "score": round(float(s), 4), "present": bool(s > 0.5)}
                     for name, s in zip(TAGS, scores, strict=True)), key=lambda t: -t["score"])
    out = [Result("detect", "2", "singing", "m1",
                  {"vocal_s": vocal_s, "regions": len(vocal_regions)}, tuple(vocal_regions)),
           Result("defects", "1", "defect-detector", "d1",
                  {"defective": bool(events), "score": round(float(rng.random()), 4),
                   "types": types, "events": len(events)}, tuple(events)),
           Result("assess", "1", "rules", "a1", assess_summary(rng, lufs, duration)),
           Result("tag", "1", "tagger", "t1",
                  {"tags": ranked, "present": [t["tag"] for t in ranked if t["present"]]})]
    if rng.random() < 1 / 3:
        out.append(Result("separate", "1", "separator", "s1", {"stems": ["vocals", "accomp"]},
                          stems={"vocals": "/stems/v.flac", "accomp": "/stems/a.flac"}))
    return out


def build(db: Path, n: int, seed: int = 0) -> None:
    """``n`` synthetic tracks with their results, by the catalog's write path."""
    rng = np.random.default_rng(seed)
    with Catalog(db) as catalog, catalog._transaction() as conn:
        stamp = now()
        for i in range(n):
            duration = round(float(rng.gamma(6.0, 40.0)), 3)
            lufs = round(float(rng.normal(-13, 4)), 2)
            failed = rng.random() < 0.01
            cur = conn.execute(
                "INSERT INTO tracks (path, content_hash, size_bytes, mtime_ns, status, error, "
                "duration_s, sample_rate, channels, codec, container, loudness_lufs, "
                "peak_dbfs, updated_at, missing) VALUES (?, ?, ?, ?, ?, ?, ?, 44100, 2, "
                "'flac', 'flac', ?, -1.0, ?, ?)",
                (f"/music/artist {i % 997:03d}/album {i % 89:02d}/{i:06d} song.flac",
                 f"{i:032x}", 30_000_000, 1, "failed" if failed else "ok",
                 "cannot decode" if failed else "", None if failed else duration,
                 None if failed else lufs, stamp, int(rng.random() < 0.01)))
            if not failed:
                for result in results_of(rng, duration, lufs):
                    _insert_result(conn, int(cur.lastrowid), result, stamp)


def timings(client: TestClient, url: str, repeats: int) -> tuple[float, float]:
    """Median and p95 latency of ``url``, ms (after one warm-up request)."""
    assert client.get(url).status_code == 200, client.get(url).text
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(1000 * (time.perf_counter() - t0))
        response.raise_for_status()
    return float(np.median(times)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir())
                        / "cantata-bench-catalog-page.db",
                        help="the synthetic catalog (built when not there)")
    parser.add_argument("--record", help="put the table into this markdown file")
    args = parser.parse_args()
    if not args.db.exists():
        t0 = time.perf_counter()
        build(args.db, args.tracks)
        print(f"built {args.tracks} tracks in {time.perf_counter() - t0:.0f} s: {args.db}")
    with Catalog(args.db, create=False) as catalog:
        total = catalog.count(missing=None)
    config = ServeConfig(db=args.db, detect_model="debug", separate_model="debug")
    client = TestClient(create_app(config), base_url="http://127.0.0.1")
    rows = [(name, url, *timings(client, url, args.repeats)) for name, url in QUERIES]
    table = ["| request | URL | median ms | p95 ms |", "|---|---|---:|---:|"]
    table += [f"| {name} | `{url}` | {med:.1f} | {p95:.1f} |" for name, url, med, p95 in rows]
    size_mb = os.path.getsize(args.db) / 2 ** 20
    section = "\n".join([
        MARK_BEGIN,
        f"{total:,} synthetic tracks ({size_mb:.0f} MiB catalog), {args.repeats} requests "
        f"each through FastAPI's TestClient, {dt.date.today().isoformat()}, {machine()} "
        f"(this project's shared 2-core machine):", "", *table, MARK_END])
    print(section)
    if args.record:
        record(args.record, "catalog_page", section)


if __name__ == "__main__":
    main()
