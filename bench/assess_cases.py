"""Clipped and truncated files: does ``cantata assess`` flag them?

Usage:
    python bench/assess_cases.py --work DIR

From the shared studio mix (14 s, 44.1 kHz stereo 16-bit FLAC): the mix raised 6 and 12 dB
and clipped at full scale as a bad master does (16-bit FLAC, and the +12 dB one also as a
320 kbit/s MP3), the mix cut short: a FLAC, a WAV, an MP3 and an Ogg Vorbis file with
their last 40 % of bytes gone (an interrupted copy), and the mix upsampled to 48 and 96 kHz
by FFmpeg's resampler and by soxr (16-bit FLAC). The untouched mix is the control. Prints
what was flagged and the grade with its first reason.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from cantata.assess import Assessor

MIX = Path(__file__).resolve().parents[2] / "shared/data/studio/bearlin-roads/mixture.flac"


def _ffmpeg(src: Path, dest: Path, *argv: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), *argv,
                    str(dest)], check=True)
    return dest


def _cut(src: Path, dest: Path, keep: float = 0.6) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def make(work: Path) -> list[tuple[Path, str]]:
    work.mkdir(parents=True, exist_ok=True)
    x, rate = sf.read(MIX, dtype="float32")
    cases = [(MIX, "control")]
    for gain in (6, 12):
        dest = work / f"clipped+{gain}dB.flac"
        sf.write(dest, np.clip(x * 10 ** (gain / 20), -1.0, 1.0), rate, subtype="PCM_16")
        cases.append((dest, "clipped"))
    cases.append((_ffmpeg(work / "clipped+12dB.flac", work / "clipped+12dB.mp3", "-b:a",
                          "320k"), "clipped"))
    wav = _ffmpeg(MIX, work / "mix.wav")
    mp3 = _ffmpeg(MIX, work / "mix.mp3", "-b:a", "192k")
    ogg = _ffmpeg(MIX, work / "mix.ogg", "-c:a", "libvorbis", "-b:a", "192k")
    for src in (MIX, wav, mp3, ogg):
        cases.append((_cut(src, work / f"cut-{src.stem}{src.suffix}"), "truncated"))
    for rate in (48000, 96000):
        for engine in ("swr", "soxr"):
            dest = work / f"up{rate // 1000}k-{engine}.flac"
            cases.append((_ffmpeg(MIX, dest, "-af", f"aresample={rate}:resampler={engine}",
                                  "-sample_fmt", "s16"), "upsampled"))
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args(argv)
    assessor = Assessor()
    print(f"{'file':22s} {'expected':10s} {'clipped runs':>12s} {'truncated':>9s} "
          f"{'flagged':>7s} grade  first reason")
    for path, expected in make(args.work):
        d = assessor.assess(path).to_dict(str(path))
        flags = {"clipped": d["clipping"]["runs"] > 0, "truncated": d["truncated"],
                 "upsampled": d["upsampled"] and d["upsampled_from_hz"] == 44100}
        flagged = flags[expected] if expected in flags else not any(flags.values())
        print(f"{path.name:22s} {expected:10s} {d['clipping']['runs']:12d} "
              f"{str(d['truncated']):>9s} {'yes' if flagged else 'NO':>7s} {d['grade']:5s}  "
              f"{(d['reasons'] or ['-'])[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
