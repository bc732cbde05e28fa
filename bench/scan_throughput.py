"""Catalog scan throughput with ``detect``: tracks per hour per core, and where the time goes.

Usage:
    python bench/scan_throughput.py [--library /tmp/cantata-scan-lib] [--jobs 2] [--rounds 2]
                                    [--profile-tracks 10] [--record docs/scan.md]

1. A 100-track library, built once into ``--library`` (and reused while its
   ``library.json`` matches): 97 tracks of real audio, 10 s to 4 min (about 100 min in all),
   in wav, flac, mp3, ogg (Vorbis), m4a (AAC) and opus, stereo and mono, at 44.1, 48 and
   16 kHz; songs with singing are MIR-1K clips (accompaniment + voice at 0 dB) played one
   after another, plus an excerpt of the demo song; instrumentals are excerpts of Debian's
   game soundtracks (``cantata.data.sources.instrumentals``) and of the demo instrumental.
   Three more files are broken (a FLAC cut in half, random bytes named .mp3, an empty .wav):
   every scan must record 97 tracks and 3 failures.
2. For each configuration (inline ``--jobs 1`` with torch's default threads and with one,
   local ``--jobs N``, ray ``--jobs N``) a fresh scan with ``detect`` into a fresh catalog
   through the Python API, each in a fresh Python process, one at a time (never two at
   once); ``--rounds`` rounds, interleaved, the fastest counting; and a rescan of the
   unchanged library into the first catalog.
3. Where the time goes: the scans' summed worker seconds per stage (hash, decode, detect) and
   the catalog writes; decode and detect are split further by a profiling pass of the same
   worker code on ``--profile-tracks`` of the tracks (loudness meter inside decode; resample,
   features, model and the rest inside detect).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

import cantata.audio.stats as stats_module
import cantata.scan.worker as worker_module
from _report import machine, markers, record
from cantata import audio
from cantata.analyzers import resolve
from cantata.audio.loudness import LoudnessMeter
from cantata.catalog import Catalog
from cantata.data.sources._files import audio_files
from cantata.data.sources.instrumentals import INSTRUMENTAL_FOLDERS, is_excluded
from cantata.scan import ray_backend, scan
from cantata.scan.local import threads_per_worker
from cantata.scan.plan import Job, stat_of
from cantata.testing import write_compressed
from cantata.types import Waveform

MARK_BEGIN, MARK_END = markers("scan_throughput")
DATA = Path(__file__).parents[2] / "shared" / "data"
LIBRARY_VERSION = 1  # bump when the recipe below changes: the cached library is rebuilt
SEED = 6
#: (tracks, shortest s, longest s): 97 tracks, mean about 64 s, about 103 min in all
LENGTHS = ((20, 10, 20), (30, 20, 45), (25, 45, 90), (14, 90, 150), (8, 150, 240))
N_SONGS = 52  # tracks with singing; the other 45 are instrumentals
FORMATS = {"mp3": 30, "flac": 20, "ogg": 15, "m4a": 15, "wav": 12, "opus": 8}  # weights
RATES = {44100: 60, 48000: 20, 16000: 20}
STEREO_SHARE = 0.75
BROKEN = ("broken/cut-in-half.flac", "broken/random-bytes.mp3", "broken/empty.wav")


# ---------------------------------------------------------------- the library


@dataclass(frozen=True)
class TrackPlan:
    """One good track of the library: what it is made of and how it is written."""

    name: str
    kind: str  # "song" or "instrumental"
    seconds: float
    fmt: str
    rate: int
    channels: int


def track_plans() -> list[TrackPlan]:
    rng = np.random.default_rng(SEED)
    lengths = [float(rng.uniform(lo, hi)) for n, lo, hi in LENGTHS for _ in range(n)]
    rng.shuffle(lengths)
    kinds = ["song"] * N_SONGS + ["instrumental"] * (len(lengths) - N_SONGS)
    rng.shuffle(kinds)
    fmts = rng.choice(list(FORMATS), size=len(lengths),
                      p=np.array(list(FORMATS.values())) / sum(FORMATS.values()))
    rates = rng.choice(list(RATES), size=len(lengths),
                       p=np.array(list(RATES.values())) / sum(RATES.values()))
    stereo = rng.random(len(lengths)) < STEREO_SHARE
    plans = []
    columns = zip(lengths, kinds, fmts, rates, stereo, strict=True)
    for i, (seconds, kind, fmt, rate, st) in enumerate(columns):
        rate = 48000 if fmt == "opus" else int(rate)  # Opus runs at 48 kHz only
        folder = "songs" if kind == "song" else "instrumentals"
        plans.append(TrackPlan(f"{folder}/{i + 1:03d}-{kind}-{round(seconds)}s.{fmt}", kind,
                               round(seconds, 2), str(fmt), rate, 2 if st else 1))
    return plans


class Mir1kSongs:
    """MIR-1K clips mixed at 0 dB (equal energy), handed out one after another."""

    def __init__(self, root: Path, rng: np.random.Generator) -> None:
        clips = sorted(p for p in root.iterdir() if (p / "vocals.ogg").is_file())
        songs: dict[str, list[Path]] = defaultdict(list)
        for clip in clips:
            songs[clip.name.rsplit("_", 1)[0]].append(clip)
        order = sorted(songs)
        rng.shuffle(order)
        self.clips = iter([clip for song in order for clip in songs[song]])

    def take(self, seconds: float) -> Waveform:
        """Mono 16 kHz, ``seconds`` long, made of whole clips (the last one cut)."""
        parts, n, need = [], 0, round(seconds * 16000)
        while n < need:
            clip = next(self.clips)  # 87 min of clips; the library's songs take about 55
            acc = audio.load(clip / "accompaniment.ogg").samples[0]
            voc = audio.load(clip / "vocals.ogg").samples[0]
            m = min(len(acc), len(voc))
            acc, voc = acc[:m], voc[:m]
            voc = voc * np.sqrt(np.mean(acc ** 2) / max(np.mean(voc ** 2), 1e-12))
            parts.append(acc + voc)
            n += m
        return Waveform(np.concatenate(parts)[:need], 16000)


class Instrumentals:
    """Excerpts of Debian's game soundtracks, a different file each time while possible."""

    def __init__(self, rng: np.random.Generator) -> None:
        files = []
        for group in ("wesnoth", "hedgewars", "drascula", "warzone2100"):
            folder = INSTRUMENTAL_FOLDERS[group]
            if folder.is_dir():
                files += [p for p in audio_files(folder) if not is_excluded(p)]
        if not files:
            raise SystemExit("no Debian instrumentals: apt-get install wesnoth-1.16-music "
                             "hedgewars-data drascula-music")
        self.files = [(p, audio.info(p).duration_s) for p in files]
        self.rng = rng
        self.used: set[Path] = set()

    def take(self, seconds: float) -> tuple[Waveform, str]:
        long_enough = [(p, d) for p, d in self.files if d >= seconds + 1]
        fresh = [(p, d) for p, d in long_enough if p not in self.used] or long_enough
        path, duration = fresh[int(self.rng.integers(len(fresh)))]
        self.used.add(path)
        offset = float(self.rng.uniform(0, duration - seconds))
        return audio.load(path, offset_s=offset, duration_s=seconds), path.name


def shape(wav: Waveform, plan: TrackPlan, rng: np.random.Generator) -> Waveform:
    """The track's channels and rate, peak at -1 to -6 dBFS."""
    x = wav.samples
    if plan.channels == 1:
        x = x.mean(axis=0, keepdims=True)
    elif x.shape[0] == 1:  # a mono source spread a little: a stereo file that is not dual mono
        pan = float(rng.uniform(0.1, 0.3))
        x = np.concatenate([x * (1 - pan), np.roll(x, 7, axis=1) * (1 + pan)])
    out = Waveform(x, wav.sample_rate)
    if out.sample_rate != plan.rate:
        out = audio.resample(out, plan.rate)
    peak = float(np.abs(out.samples).max()) or 1.0
    gain = 10 ** (-float(rng.uniform(1, 6)) / 20) / peak
    return Waveform(out.samples * gain, out.sample_rate)


def write_track(path: Path, wav: Waveform) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".wav", ".flac"):
        audio.save(path, wav, overwrite=True)
    elif path.suffix == ".ogg":
        # in blocks: libsndfile's Vorbis encoder crashes on one long write (about 60 s)
        with sf.SoundFile(path, "w", wav.sample_rate, wav.n_channels, format="OGG",
                          subtype="VORBIS") as f:
            for i in range(0, wav.n_samples, 1 << 16):
                f.write(np.ascontiguousarray(wav.samples[:, i:i + (1 << 16)].T))
    else:
        write_compressed(path, wav)


def build_library(root: Path, data: Path) -> dict[str, Any]:
    """The library in ``root`` (reused when its ``library.json`` matches this recipe)."""
    stamp = root / "library.json"
    plans = track_plans()
    if stamp.is_file():
        meta = json.loads(stamp.read_text())
        files = [t["path"] for t in meta["tracks"]] + list(BROKEN)
        if meta.get("version") == LIBRARY_VERSION and all((root / f).exists() for f in files):
            return meta
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty and has no library.json: pick another --library")
    start = time.perf_counter()
    rng = np.random.default_rng(SEED + 1)
    songs, instrumentals = Mir1kSongs(data / "mir1k", rng), Instrumentals(rng)
    demo_song = data / "music" / "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg"
    demo_instrumental = data / "music" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
    demos = {"song": (demo_song, 130.0), "instrumental": (demo_instrumental, 60.0)}
    tracks = []
    for plan in plans:
        demo, demo_max = demos.get(plan.kind, (None, 0.0))
        if demo is not None and plan.seconds <= demo_max:  # the first that fits
            del demos[plan.kind]
            wav, source = audio.load(demo, duration_s=plan.seconds), demo.name
        elif plan.kind == "song":
            wav, source = songs.take(plan.seconds), "MIR-1K clips"
        else:
            wav, source = instrumentals.take(plan.seconds)
        write_track(root / plan.name, shape(wav, plan, rng))
        tracks.append({**plan.__dict__, "path": plan.name, "source": source})
    broken = root / "broken"
    broken.mkdir()
    good_flac = next(root / t["path"] for t in tracks if t["fmt"] == "flac")
    data_bytes = good_flac.read_bytes()
    (root / BROKEN[0]).write_bytes(data_bytes[: len(data_bytes) // 2])
    (root / BROKEN[1]).write_bytes(np.random.default_rng(SEED).bytes(200_000))
    (root / BROKEN[2]).write_bytes(b"")
    meta = {"version": LIBRARY_VERSION, "seed": SEED, "tracks": tracks,
            "build_s": round(time.perf_counter() - start, 1)}
    stamp.write_text(json.dumps(meta, indent=1))
    return meta


def library_rows(meta: dict[str, Any], root: Path) -> list[str]:
    tracks = meta["tracks"]
    total = sum(t["seconds"] for t in tracks)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6

    def spread(key: str, fmt: Callable[[Any], str] = str) -> str:
        counts: dict[Any, int] = defaultdict(int)
        for t in tracks:
            counts[t[key]] += 1
        return ", ".join(f"{fmt(k)} {v}" for k, v in sorted(counts.items(), key=lambda kv:
                                                             -kv[1]))

    lengths = sorted(t["seconds"] for t in tracks)
    return [f"| tracks | {len(tracks)} good + {len(BROKEN)} broken, {size:.0f} MB |",
            f"| audio | {total / 60:.1f} min; {lengths[0]:.0f} s to {lengths[-1]:.0f} s, "
            f"median {np.median(lengths):.0f} s |",
            f"| content | {spread('kind')} |",
            f"| formats | {spread('fmt')} |",
            f"| sample rates | {spread('rate', lambda r: f'{r / 1000:g} kHz')} |",
            f"| channels | {spread('channels', lambda c: 'stereo' if c == 2 else 'mono')} |",
            "| broken | " + ", ".join(f"`{b}`" for b in BROKEN) + " |"]


# ---------------------------------------------------------------- the scans


def cpu_busy_s() -> float:
    """Seconds of CPU time the whole machine has spent busy (not idle, not waiting on I/O)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (pool workers)."""
    me, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def ray_cpu_s() -> float:
    """CPU seconds of the running Ray processes (raylet, GCS, workers) but this one: Ray
    starts them outside this process's tree, so :func:`own_cpu_s` never sees them."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if b"ray" in cmdline and int(pid) != os.getpid():
            fields = stat[stat.rindex(")") + 2:].split()
            total += sum(int(x) for x in fields[11:15])  # its and its reaped children's
    return total / os.sysconf("SC_CLK_TCK")


def wait_quiet(limit_s: float = 30.0, busy_cores: float = 0.2) -> float:
    """Wait (up to ``limit_s``) for a second in which other work uses under ``busy_cores``."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit_s:
        busy = cpu_busy_s()
        time.sleep(1.0)
        if cpu_busy_s() - busy < busy_cores:
            break
    return time.perf_counter() - start


@dataclass(frozen=True)
class Config:
    label: str
    backend: str
    jobs: int
    threads: int | None = None  # torch threads of an in-process worker; None: torch's default


def scan_once(config: Config, library: Path, db: Path) -> dict[str, Any]:
    """One scan with ``detect`` into ``db``; what it did and how long it took."""
    if config.threads:
        torch.set_num_threads(config.threads)
    first: list[float] = []
    busy, own, start = cpu_busy_s(), own_cpu_s(), time.perf_counter()

    def on_outcome(outcome: worker_module.Outcome) -> None:
        if not first:
            first.append(time.perf_counter() - start - sum(outcome.seconds.values()))

    ray_s: list[float] = []
    close = ray_backend.RayBackend.close

    def close_counting(backend: ray_backend.RayBackend) -> None:
        ray_s.append(ray_cpu_s())
        close(backend)

    with Catalog(db) as catalog, patched(ray_backend.RayBackend, "close", close_counting):
        summary = scan(library, catalog, resolve("detect"), backend=config.backend,
                       jobs=config.jobs, on_outcome=on_outcome)
        tracks, failed = catalog.count(), catalog.count(status="failed")
    busy, own = cpu_busy_s() - busy, own_cpu_s() - own + sum(ray_s)
    inline = config.backend == "inline"
    got = {"analyzed": summary.analyzed, "failed": len(summary.failed),
           "skipped": summary.skipped}
    expected = {"analyzed": 97, "failed": 3, "skipped": 0} if summary.skipped == 0 else \
        {"analyzed": 0, "failed": 0, "skipped": 100}
    if got != expected or (tracks, failed) != (100, 3):
        raise SystemExit(f"{config.label}: expected {expected} and a catalog of 100 tracks, "
                         f"3 failed; got {got}, {tracks} tracks, {failed} failed")
    return {**got, "label": config.label, "workers": config.jobs if summary.analyzed else 0,
            "threads": torch.get_num_threads() if inline else threads_per_worker(config.jobs),
            "wall_s": summary.wall_s, "audio_s": summary.audio_s,
            "startup_s": first[0] if first else 0.0, "busy_s": busy, "own_s": own,
            "seconds": summary.seconds, "failures": summary.failed}


def child(config: Config, library: Path, db: Path, rescan: bool) -> None:
    """Run in a fresh process: one scan (and a rescan), results as JSON lines on stdout."""
    runs = [scan_once(config, library, db)]
    if rescan:
        runs.append(scan_once(Config("rescan, unchanged (100 skipped)", "inline", 1), library,
                              db))
    for run in runs:
        print("RESULT " + json.dumps(run))


def run_in_child(config: Config, library: Path, db: Path, rescan: bool) -> list[dict[str, Any]]:
    """:func:`child` in a fresh Python, so no thread pool or Ray state carries over."""
    cmd = [sys.executable, __file__, "--child", json.dumps(config.__dict__),
           "--library", str(library), "--db", str(db)] + (["--rescan"] if rescan else [])
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
    runs = [json.loads(line[7:]) for line in out.splitlines() if line.startswith("RESULT ")]
    for r in runs:
        print(f"  {r['label']}: {r['wall_s']:.2f} s, analyzed {r['analyzed']}, failed "
              f"{r['failed']}, skipped {r['skipped']}, cores busy "
              f"{r['busy_s'] / r['wall_s']:.2f} (this scan {r['own_s'] / r['wall_s']:.2f})")
    return runs


def throughput_rows(best: list[dict[str, Any]], slowest: list[float], rescan: dict[str, Any]
                    ) -> list[str]:
    rows = []
    base_rate = 100 / best[0]["wall_s"]
    for r, worst in zip(best, slowest, strict=True):
        per_hour = 3600 * 100 / r["wall_s"]
        used = r["own_s"] / r["wall_s"]
        other = max(0.0, r["busy_s"] - r["own_s"]) / r["wall_s"]
        rows.append(
            f"| {r['label']} | {r['workers']} × {r['threads']} | {r['wall_s']:.1f} s "
            f"({worst:.1f}) | {r['startup_s']:.1f} s | {r['audio_s'] / r['wall_s']:.0f}x | "
            f"{per_hour:,.0f} | **{per_hour / r['workers']:,.0f}** | {used:.2f} | "
            f"{per_hour / used:,.0f} | {other:.2f} | {100 / r['wall_s'] / base_rate:.2f} |")
    rows.append(f"| {rescan['label']} | – | {1000 * rescan['wall_s']:.0f} ms "
                f"({1000 * rescan['wall_s'] / 100:.2f} ms per file) | – | – | – | – | – | – "
                "| – | – |")
    return rows


# ---------------------------------------------------------------- where the time goes


class Timed:
    """A callable that adds up the seconds spent in it."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


class TimedMeter(LoudnessMeter):
    """The scan's loudness meter, timing its pushes (the worker's decode pass feeds it)."""

    seconds = 0.0

    def push(self, block: Waveform) -> None:
        start = time.perf_counter()
        super().push(block)
        TimedMeter.seconds += time.perf_counter() - start


@contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[Any]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield value
    finally:
        setattr(obj, name, old)


def profile(library: Path, meta: dict[str, Any], n_tracks: int) -> dict[str, float]:
    """Shares of decode and detect sub-stages, from the scan's worker on a few tracks.

    Returns ``{"meter": share of decode, "resample"/"features"/"model"/"rest": share of
    detect, "detect_s": detect seconds, "tracks": n, "audio_s": seconds of audio}``, the
    worker running in this process (with this process's torch threads).
    """
    by_length = sorted(meta["tracks"], key=lambda t: t["seconds"])
    picks = [by_length[round(i)] for i in np.linspace(0, len(by_length) - 1, n_tracks)]
    worker = worker_module.Worker(resolve("detect"), files_dir=None)
    detector = worker.analyzers["detect"].detector  # type: ignore[attr-defined]
    worker.run(Job(stat_of(library / picks[0]["path"]), None, ("detect",)))  # warm-up
    TimedMeter.seconds = 0.0
    totals: dict[str, float] = defaultdict(float)
    with patched(stats_module, "LoudnessMeter", TimedMeter), \
            patched(audio, "resample", Timed(audio.resample)) as resample, \
            patched(detector, "extractor", Timed(detector.extractor)) as features, \
            patched(detector, "model", Timed(detector.model)) as model:
        for t in picks:
            outcome = worker.run(Job(stat_of(library / t["path"]), None, ("detect",)))
            assert not outcome.facts.error, outcome.facts.error
            for key, value in outcome.seconds.items():
                totals[key] += value
    inner = {"resample": resample.seconds, "features": features.seconds,
             "model": model.seconds}
    shares = {k: v / totals["detect"] for k, v in inner.items()}
    shares["rest"] = 1 - sum(shares.values())
    shares["meter"] = TimedMeter.seconds / totals["decode"]
    shares["detect_s"] = totals["detect"]
    shares["tracks"] = len(picks)
    shares["audio_s"] = sum(t["seconds"] for t in picks)
    return shares


STAGES = (
    ("hash", "hash (BLAKE2b of the file's bytes)"),
    ("decode:read", "decode (container + codec, native rate)"),
    ("decode:meter", "loudness and peak meter"),
    ("detect:resample", "detect: mono + resample to 16 kHz"),
    ("detect:features", "detect: features (log-mel)"),
    ("detect:model", "detect: model"),
    ("detect:rest", "detect: windowing, calibration, regions"),
    ("write", "catalog write (SQLite, one transaction per track)"),
)


def stage_seconds(run: dict[str, Any], shares: dict[str, float]) -> dict[str, float]:
    s = run["seconds"]
    out = {"hash": s.get("hash", 0.0), "write": s.get("write", 0.0)}
    out["decode:meter"] = s.get("decode", 0.0) * shares["meter"]
    out["decode:read"] = s.get("decode", 0.0) - out["decode:meter"]
    for part in ("resample", "features", "model", "rest"):
        out[f"detect:{part}"] = s.get("detect", 0.0) * shares[part]
    return out


def time_rows(runs: list[dict[str, Any]], shares: dict[str, float]) -> list[str]:
    per_run = [stage_seconds(r, shares) for r in runs]
    totals = [sum(p.values()) for p in per_run]
    rows = []
    for key, label in STAGES:
        cells = [f"{p[key]:.1f} s ({100 * p[key] / t:.1f} %)"
                 for p, t in zip(per_run, totals, strict=True)]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    rows.append("| **sum of stage seconds** | " + " | ".join(
        f"**{t:.1f} s**" for t in totals) + " |")
    rows.append("| workers busy in stages | " + " | ".join(
        f"{100 * (t - p['write']) / (r['wall_s'] * r['workers']):.0f} %"
        for r, p, t in zip(runs, per_run, totals, strict=True)) + " |")
    return rows


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", default="/tmp/cantata-scan-lib",
                        help="where the test library is built once and reused")
    parser.add_argument("--data", default=str(DATA), help="the shared data folder")
    parser.add_argument("--jobs", type=int, default=2, help="workers of the parallel scans")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of all configurations, interleaved; the best counts")
    parser.add_argument("--profile-tracks", type=int, default=10)
    parser.add_argument("--record", help="write the tables into this markdown file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--rescan", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    library = Path(args.library)
    if args.child:
        child(Config(**json.loads(args.child)), library, Path(args.db), args.rescan)
        return
    load = os.getloadavg()[0]
    bench_start = time.perf_counter()
    meta = build_library(library, Path(args.data))
    print(f"library {library}: {len(meta['tracks'])} tracks (built in {meta['build_s']} s)")

    configs = [Config("inline `--jobs 1`", "inline", 1),
               Config("inline `--jobs 1`, 1 torch thread", "inline", 1, 1),
               Config("local `--jobs 1`", "local", 1),
               Config(f"local `--jobs {args.jobs}`", "local", args.jobs),
               Config(f"ray `--jobs {args.jobs}`", "ray", args.jobs)]
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="cantata-scan-bench-") as tmp:
        for round_ in range(args.rounds):
            print(f"round {round_ + 1} of {args.rounds}")
            for i, config in enumerate(configs):
                db = Path(tmp) / f"catalog-{round_}-{i}.db"
                if (waited := wait_quiet()) > 1.5:
                    print(f"  waited {waited:.0f} s for other work on the machine to calm down")
                for r in run_in_child(config, library, db, rescan=i == 0):
                    results[r["label"]].append(r)
    torch.set_num_threads(1)
    shares = min((profile(library, meta, args.profile_tracks) for _ in range(args.rounds)),
                 key=lambda s: s["detect_s"])
    best = [min(results[c.label], key=lambda r: r["wall_s"]) for c in configs]
    slowest = [max(r["wall_s"] for r in results[c.label]) for c in configs]
    rescan = min(results["rescan, unchanged (100 skipped)"], key=lambda r: r["wall_s"])
    failures = best[0]["failures"]
    same = all(r["failures"] == failures for runs in results.values() for r in runs
               if r["failed"])

    import ray

    command = "python bench/scan_throughput.py" + \
        (f" --jobs {args.jobs}" if args.jobs != 2 else "") + \
        (f" --rounds {args.rounds}" if args.rounds != 2 else "") + \
        (f" --profile-tracks {args.profile_tracks}" if args.profile_tracks != 10 else "")
    section = "\n".join([
        MARK_BEGIN,
        f"### Scan throughput with `detect` ({dt.date.today()}, {machine()}, "
        f"torch {torch.__version__}, Ray {ray.__version__})",
        "",
        f"`{command} --record docs/scan.md` ({(time.perf_counter() - bench_start) / 60:.0f} "
        "min). Each scan is a fresh catalog, scanned through the Python API "
        "(`cantata.scan.scan`, what `cantata scan LIB --db DB --analyzers detect --backend B "
        "--jobs N` runs) in a fresh Python process, one scan at a time; "
        f"{args.rounds} rounds of all configurations, interleaved, and the fastest round of "
        "each counts (the machine is shared: the slowest is in brackets; before each scan the "
        "bench waits up to 30 s for a second in which other work uses under 0.2 cores). Load "
        "average "
        f"{load:.2f} when the bench started. The library, built once (seeded) from real "
        "recordings in `../shared/data` and Debian's game soundtracks:",
        "",
        "| library | |",
        "|---|---|",
        *library_rows(meta, library),
        "",
        "Every scan recorded 97 tracks and 3 failures (checked), "
        + ("the same reasons each time: " if same else "reasons of the first scan: ")
        + "; ".join(f"`{Path(p).name}`: {reason}" for p, reason in sorted(failures.items()))
        + ".",
        "",
        "Tracks per hour count all 100 files; */core* divides by the workers. Wall time "
        "includes starting the workers and loading the model; *startup* is the time to the "
        "first result less that result's own work. *Cores used* is the CPU time of the scan's "
        "processes (the scanning process, its workers, and Ray's raylet, GCS and workers) "
        "over the wall time, and *per core used* divides by it; *other load* is the rest of "
        f"the machine's busy time ({os.cpu_count()} cores) over the wall time: other work on "
        "the shared machine. *vs inline 1* is the ratio of tracks per hour to the first row. "
        "An inline scan (`--backend inline`) runs its worker in the scanning process with "
        "torch's default threads (one per core); the 1-thread row (`torch.set_num_threads(1)` "
        "before the scan; there is no CLI flag for it) is the one-core reference. A local scan "
        "(the default) starts worker processes that split the cores between them.",
        "",
        "| configuration | workers × torch threads | wall, best (slowest) | startup | "
        "× real time | tracks/h | tracks/h/core | cores used | tracks/h per core used | "
        "other load | vs inline 1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *throughput_rows(best, slowest, rescan),
        "",
        "Where the time goes: the summed worker seconds per stage of the scans above, and "
        "the catalog writes in the scanning process. Decode and detect are split further by "
        f"a profiling pass of the same worker code on {int(shares['tracks'])} of the tracks "
        f"({shares['audio_s'] / 60:.1f} min of audio, every length; one torch thread; "
        f"fastest of {args.rounds}): the loudness meter took {100 * shares['meter']:.0f} % "
        f"of decode; features {100 * shares['features']:.1f} %, the model "
        f"{100 * shares['model']:.1f} %, resampling {100 * shares['resample']:.1f} % and the "
        f"rest {100 * shares['rest']:.1f} % of detect. Those shares are applied to every "
        "column. The last row is the stages' worker seconds over wall time × workers (the "
        "rest is startup, idling and passing jobs and results).",
        "",
        "| stage | " + " | ".join(r["label"] for r in best) + " |",
        "|---|" + "---:|" * len(best),
        *time_rows(best, shares),
        MARK_END,
    ])
    print(section)
    if args.record:
        record(args.record, "scan_throughput", section)


if __name__ == "__main__":
    main()
