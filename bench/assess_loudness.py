"""Loudness, loudness range and true peak of ``cantata assess`` against FFmpeg's ``ebur128``
filter and ``pyloudnorm``, on the same decoded files in one run.

Usage:
    python bench/assess_loudness.py [FILE_OR_DIR ...] [--limit N]

Without arguments: the shared studio multitrack (mix, vocals, accompaniment, stems), the
two CC-BY songs of the shared ``music/`` folder, 12 TSP utterances and the Debian wesnoth
soundtrack when installed. FFmpeg runs ``ebur128=peak=true:metadata=1`` and its last
frame's ``lavfi.r128.I``, ``LRA`` and ``true_peak`` are read (three decimals, not the
summary's one); pyloudnorm (a bench extra) gives a second integrated loudness. Prints a
row per file and the largest differences against the bars (0.1 LU integrated, 0.3 dB true
peak).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from cantata import audio
from cantata.assess.loudness import measure_loudness

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/core/music")


def default_files(limit: int) -> list[Path]:
    studio = SHARED / "studio" / "bearlin-roads"
    files = sorted(studio.glob("*.flac")) + sorted(studio.glob("stems/*.flac"))
    files += sorted((SHARED / "music").glob("*.ogg"))
    files += sorted((SHARED / "speech" / "tsp").glob("*/*.flac"))[::20]
    files += sorted(WESNOTH.glob("*.ogg"))[:limit]
    return files


def ffmpeg_ebur128(path: Path) -> dict[str, float]:
    """FFmpeg's integrated loudness, loudness range and true peak (dBTP) of a file."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as log:
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-af",
                        f"ebur128=peak=true:metadata=1,ametadata=mode=print:file={log.name}",
                        "-f", "null", "-"], check=True)
        last: dict[str, float] = {}
        for line in Path(log.name).read_text().splitlines():
            key, _, value = line.partition("=")
            if key.startswith("lavfi.r128."):
                last[key.removeprefix("lavfi.r128.")] = float(value)
    peak = last.get("true_peak", 0.0)
    return {"I": last["I"], "LRA": last["LRA"],
            "TP": 20 * math.log10(peak) if peak > 0 else -math.inf}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--limit", type=int, default=12, help="wesnoth tracks (default 12)")
    args = parser.parse_args(argv)
    import pyloudnorm

    files = [f for p in args.files for f in (sorted(p.rglob("*.*")) if p.is_dir() else [p])]
    files = files or default_files(args.limit)
    rows = []
    diffs: dict[str, list[float]] = {k: [] for k in (
        "I vs ffmpeg", "I vs pyloudnorm", "I vs pyloudnorm, music", "LRA vs ffmpeg",
        "TP vs ffmpeg")}
    print(f"{'file':40s} {'I':>7s} {'ffmpeg':>7s} {'pyln':>7s} {'LRA':>5s} {'ffmpeg':>6s} "
          f"{'TP':>6s} {'ffmpeg':>6s}")
    for path in files:
        wav = audio.load(path)
        ours = measure_loudness(wav.samples, wav.sample_rate)
        ref = ffmpeg_ebur128(path)
        pyln = pyloudnorm.Meter(wav.sample_rate).integrated_loudness(wav.samples.T.astype(
            np.float64))
        if not math.isfinite(ours.integrated_lufs):
            continue
        diffs["I vs ffmpeg"].append(ours.integrated_lufs - ref["I"])
        diffs["I vs pyloudnorm"].append(ours.integrated_lufs - pyln)
        if "/speech/" not in str(path):
            diffs["I vs pyloudnorm, music"].append(ours.integrated_lufs - pyln)
        diffs["TP vs ffmpeg"].append(ours.true_peak_dbtp - ref["TP"])
        if wav.duration_s >= 10:  # a range needs many 3 s windows
            diffs["LRA vs ffmpeg"].append(ours.range_lu - ref["LRA"])
        rows.append(path)
        print(f"{str(path)[-40:]:40s} {ours.integrated_lufs:7.2f} {ref['I']:7.2f} {pyln:7.2f} "
              f"{ours.range_lu:5.1f} {ref['LRA']:6.1f} {ours.true_peak_dbtp:6.2f} "
              f"{ref['TP']:6.2f}")
    print(f"\n{len(rows)} files")
    print(f"{'difference':24s} {'files':>5s} {'mean':>7s} {'largest |d|':>11s} {'bar':>5s}")
    bars = {"I vs ffmpeg": "0.1", "I vs pyloudnorm": "0.1", "I vs pyloudnorm, music": "0.1",
            "TP vs ffmpeg": "0.3", "LRA vs ffmpeg": "-"}
    for name, values in diffs.items():
        d = np.asarray(values)
        if len(d):
            print(f"{name:24s} {len(d):5d} {d.mean():+7.3f} {np.abs(d).max():11.3f} "
                  f"{bars[name]:>5s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
