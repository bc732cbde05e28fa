"""Decode + log-mel throughput on a 10-minute file, and peak memory streaming a 2-hour file.

Usage:
    python bench/audio_throughput.py [--minutes 10] [--hours 2] [--record docs/benchmarks.md]

Throughput is in multiples of real time (audio seconds per wall second, best of --repeats),
beside librosa doing the same job in the same run (the baseline). Peak memory is the peak
RSS of a child process that streams the long file, beside a child that only imports the
same modules. The synthetic audio is written to a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from _report import best_of, machine, markers, record
from cantata.testing import noise, sine, write_compressed
from cantata.types import Waveform

RATE = 44100
MARK_BEGIN, MARK_END = markers("audio_throughput")


def music_like(seconds: float, seed: int) -> Waveform:
    """Stereo chords with a pulsing envelope plus a little noise: compresses like music."""
    chord = sum(sine(f, duration_s=seconds, sample_rate=RATE, n_channels=2, amplitude=0.15).samples
                for f in (220.0, 277.2, 329.6))
    t = np.arange(chord.shape[1]) / RATE
    pulse = 0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t) ** 2
    hiss = noise(duration_s=seconds, sample_rate=RATE, n_channels=2, amplitude=0.02, seed=seed)
    return Waveform(chord * pulse + hiss.samples, RATE)


def write_long_flac(path: Path, hours: float) -> None:
    """Write a long file minute by minute, never holding it whole."""
    minute = music_like(60.0, seed=1).samples.T
    with sf.SoundFile(str(path), "w", RATE, 2, subtype="PCM_16", format="FLAC") as f:
        for _ in range(round(hours * 60)):
            f.write(minute)




def cantata_jobs(path: Path) -> dict[str, Callable[[], object]]:
    import torch

    from cantata import audio
    from cantata.features import FeatureConfig, FeatureExtractor

    logmel = FeatureExtractor(FeatureConfig(kind="logmel", sample_rate=16000))

    def decode_logmel() -> object:
        wav = audio.load(path, sample_rate=16000, mono=True)
        with torch.inference_mode():
            return logmel(torch.from_numpy(wav.samples))

    def stream_logmel() -> object:
        with torch.inference_mode():
            return [logmel(torch.from_numpy(b.samples))
                    for b in audio.stream(path, block_s=30, sample_rate=16000, mono=True)]

    return {"decode": lambda: audio.load(path), "decode + 16 kHz mono + log-mel": decode_logmel,
            "stream (30 s blocks) + log-mel": stream_logmel}


def librosa_jobs(path: Path) -> dict[str, Callable[[], object]]:
    import librosa

    def decode_logmel() -> object:
        y, _ = librosa.load(path, sr=16000, mono=True)
        mel = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=1024, hop_length=320, n_mels=80)
        return librosa.power_to_db(mel)

    return {"decode": lambda: librosa.load(path, sr=None, mono=False),
            "decode + 16 kHz mono + log-mel": decode_logmel}


def throughput_rows(folder: Path, minutes: float, repeats: int) -> list[str]:
    song = music_like(minutes * 60, seed=0)
    files = {"mp3 128k": write_compressed(folder / "ten.mp3", song),
             "flac 16-bit": folder / "ten.flac"}
    sf.write(str(files["flac 16-bit"]), song.samples.T, RATE, subtype="PCM_16")
    del song
    rows = []
    for fmt, path in files.items():
        ours, theirs = cantata_jobs(path), librosa_jobs(path)
        for job, run in ours.items():
            x_ours = minutes * 60 / best_of(repeats, run)
            if job in theirs:
                x_base = minutes * 60 / best_of(repeats, theirs[job])
                rows.append(f"| {fmt} | {job} | {x_ours:.0f}x | {x_base:.0f}x | "
                            f"{x_ours / x_base:.2f} |")
            else:
                rows.append(f"| {fmt} | {job} | {x_ours:.0f}x | – | – |")
    return rows


# VmHWM, not getrusage: Linux carries ru_maxrss over from the parent across exec.
CHILD = """
import sys
from cantata import audio
mode, path = sys.argv[1], sys.argv[2]
if mode in ("imports-features", "stream-logmel"):
    import torch
    from cantata.features import FeatureConfig, FeatureExtractor
    torch.set_num_threads(2)
if mode == "stream-logmel":
    logmel = FeatureExtractor(FeatureConfig(kind="logmel", sample_rate=16000))
    with torch.inference_mode():
        for block in audio.stream(path, block_s=10, sample_rate=16000, mono=True):
            logmel(torch.from_numpy(block.samples))
elif mode == "measure":
    audio.measure(path)
elif mode == "load":
    audio.load(path)
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""

MEMORY_JOBS = [
    ("imports-audio", "import cantata.audio (baseline)"),
    ("measure", "`cantata info` pass: stream, peak, loudness"),
    ("imports-features", "import cantata.audio + torch + cantata.features (baseline)"),
    ("stream-logmel", "stream 10 s blocks -> 16 kHz mono -> log-mel"),
]


def peak_rss_mb(mode: str, path: Path) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1])


def memory_rows(folder: Path, hours: float) -> list[str]:
    path = folder / "long.flac"
    write_long_flac(path, hours)
    jobs = MEMORY_JOBS + ([("load", "`load()` of the whole file, for comparison")]
                          if hours <= 0.5 else [])  # loading 2 h whole would need ~2.5 GB
    return [f"| {label} | {peak_rss_mb(mode, path)} MB |" for mode, label in jobs]


def report(minutes: float, hours: float, repeats: int) -> str:
    import torch

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory(prefix="cantata-bench-") as tmp:
        through = throughput_rows(Path(tmp), minutes, repeats)
        memory = memory_rows(Path(tmp), hours)
    return "\n".join([
        MARK_BEGIN,
        f"### Decode and log-mel ({dt.date.today()}, {machine()}, torch {torch.__version__})",
        "",
        f"`python bench/audio_throughput.py --minutes {minutes:g} --hours {hours:g}`: a "
        f"{minutes:g}-minute stereo 44.1 kHz file, best of {repeats}; multiples of real time "
        "(higher is better). Baseline: librosa in the same run (`librosa.load` with its default "
        "soxr_hq resampler, `melspectrogram` + `power_to_db`).",
        "",
        "| file | job | cantata | librosa | ratio |",
        "|---|---|---:|---:|---:|",
        *through,
        "",
        f"Peak resident memory of a child process working through a {hours:g}-hour stereo "
        "44.1 kHz FLAC (goal: under 300 MB):",
        "",
        "| job | peak RSS |",
        "|---|---:|",
        *memory,
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--record", type=Path, help="write the table into this markdown file")
    args = parser.parse_args()
    section = report(args.minutes, args.hours, args.repeats)
    print(section)
    if args.record:
        record(args.record, "audio_throughput", section)


if __name__ == "__main__":
    main()
