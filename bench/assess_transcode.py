"""Transcode detection of ``cantata assess`` on real lossless recordings and FFmpeg encodes.

Usage:
    python bench/assess_transcode.py --work DIR [--jobs 2] [--tsp N] [--sonic-pi N]
                                     [--mir1k N] [--gm N] [--songs SYNTH_SONGS_DIR]

Sources (each used only where present): the studio multitrack of the shared data
(``studio/bearlin-roads``: mix, vocals, accompaniment, nine stems; 44.1 kHz), TSP read
speech (48 kHz, naturally dull), the Debian ``sonic-pi-samples`` (44.1 kHz FLAC, at least
1.5 s), General MIDI solo instruments rendered by FluidSynth (44.1 kHz; many naturally dull,
as a solo flute is), songs of ``cantata data synth song`` (22.05 kHz) and MIR-1K accompaniments
(16 kHz; Vorbis-decoded in the shared folder). Every source is encoded by the ``ffmpeg``
command with libmp3lame, aac, libvorbis and libopus at 96-320 kbit/s and decoded back to
16-bit FLAC at its own rate and channels (the "lossless" transcode); the untouched
originals are the genuine files.

Sources are split by file (a hash of the path): the thresholds of the shelf rule and of
the codec frame grid test (``cantata.assess.mdct_grid``) are tuned on the ``train`` half
(:func:`tune`) and every figure printed for ``test`` comes from sources the tuning never
saw. Prints tables (detection per codec and bitrate, false accusations per source group,
codec and bitrate identification, which cue found each transcode) and the tuned
thresholds next to those shipped. ``--no-grid``: the shelf rule alone, as before the grid.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cantata.assess import bandwidth as bw
from cantata.assess import mdct_grid

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CODECS = {"mp3": ("libmp3lame", "mp3"), "aac": ("aac", "m4a"), "vorbis": ("libvorbis", "ogg"),
          "opus": ("libopus", "opus")}
BITRATES = (96, 128, 192, 256, 320)


@dataclass(frozen=True)
class Item:
    """One file of the set: a genuine original or a transcode of one."""

    path: str
    group: str
    source: str
    codec: str | None = None
    kbps: int | None = None

    @property
    def split(self) -> str:
        return "train" if hashlib.md5(self.source.encode()).digest()[0] % 2 == 0 else "test"


def sources(args: argparse.Namespace) -> list[Item]:
    """The genuine files, by group."""
    out: list[Item] = []

    def add(group: str, paths: list[Path]) -> None:
        out.extend(Item(str(p), group, str(p)) for p in paths)

    studio = SHARED / "studio" / "bearlin-roads"
    add("studio 44.1k", sorted(studio.glob("*.flac")) + sorted(studio.glob("stems/*.flac")))
    tsp = sorted((SHARED / "speech" / "tsp").glob("*/*.flac"))
    add("speech 48k (TSP)", tsp[::max(1, len(tsp) // args.tsp)][:args.tsp])
    import soundfile as sf

    samples = [p for p in sorted(Path("/usr/share/sonic-pi/samples").glob("*.flac"))
               if sf.info(str(p)).duration >= 1.5]
    add("sonic-pi 44.1k", samples[:args.sonic_pi])
    if args.songs is not None:
        add("synth songs 22.05k", sorted(Path(args.songs).glob("*/mixture.flac")))
    add("GM solo 44.1k", [_solo(program, args.work) for program in GM_SOLOS[:args.gm]])
    mir = sorted((SHARED / "mir1k").glob("*/accompaniment.ogg"))[:args.mir1k]
    add("MIR-1K 16k (Vorbis-decoded)", [_as_flac(p, args.work) for p in mir])
    return out


#: General MIDI programs rendered as naturally dull solo recordings (flute, clarinet, oboe,
#: ... : many of FluidR3's samples stop at 5-15 kHz, as a real solo flute may)
GM_SOLOS = (73, 71, 68, 0, 24, 40, 42, 48, 52, 56, 19, 33)


def _solo(program: int, work: Path) -> Path:
    """A 40-note solo melody of General MIDI ``program``, rendered by FluidSynth (FluidR3
    GM soundfont) at 44.1 kHz and saved as 16-bit FLAC: a lossless original (cached)."""
    dest = work / "gm" / f"gm{program:03d}.flac"
    if dest.exists():
        return dest
    import random

    import mido

    rng = random.Random(program)
    song, track = mido.MidiFile(), mido.MidiTrack()
    song.tracks.append(track)
    track.append(mido.Message("program_change", program=program, time=0))
    base = 48 if program in (33, 42) else 64
    for _ in range(40):
        note = base + rng.choice([0, 2, 4, 5, 7, 9, 11, 12])
        track.append(mido.Message("note_on", note=note, velocity=rng.randint(60, 110), time=0))
        track.append(mido.Message("note_off", note=note, velocity=0,
                                  time=rng.choice([240, 480, 960])))
    dest.parent.mkdir(parents=True, exist_ok=True)
    midi, wav = dest.with_suffix(".mid"), dest.with_suffix(".wav")
    song.save(str(midi))
    subprocess.run(["fluidsynth", "-ni", "-F", str(wav), "-r", "44100", "-g", "0.8",
                    "/usr/share/sounds/sf2/FluidR3_GM.sf2", str(midi)], check=True,
                   capture_output=True)
    _ffmpeg(["-i", str(wav), "-sample_fmt", "s16", str(dest)])
    wav.unlink()
    return dest


def _as_flac(path: Path, work: Path) -> Path:
    dest = work / "mir1k" / f"{path.parent.name}.flac"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        _ffmpeg(["-i", str(path), "-sample_fmt", "s16", str(dest)])
    return dest


def _ffmpeg(argv: list[str]) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *argv], check=True)


def transcode(job: tuple[Item, str, int, Path]) -> Item | None:
    """Encode a source with one codec and bitrate and decode it back to 16-bit FLAC."""
    item, codec, kbps, work = job
    import soundfile as sf

    meta = sf.info(item.path)
    stem = hashlib.md5(item.path.encode()).hexdigest()[:12]
    encoder, suffix = CODECS[codec]
    encoded = work / "enc" / f"{stem}-{codec}{kbps}.{suffix}"
    decoded = work / "dec" / f"{stem}-{codec}{kbps}.flac"
    if not decoded.exists():
        encoded.parent.mkdir(parents=True, exist_ok=True)
        decoded.parent.mkdir(parents=True, exist_ok=True)
        try:
            _ffmpeg(["-i", item.path, "-c:a", encoder, "-b:a", f"{kbps}k", str(encoded)])
            _ffmpeg(["-i", str(encoded), "-ar", str(meta.samplerate), "-ac",
                     str(meta.channels), "-sample_fmt", "s16", str(decoded)])
        except subprocess.CalledProcessError:
            return None  # e.g. a bitrate the encoder refuses at this rate
        finally:
            encoded.unlink(missing_ok=True)
    return Item(str(decoded), item.group, item.source, codec, kbps)


def features(job: tuple[str, Path]) -> tuple[np.ndarray, np.ndarray, int, float | None,
                                            mdct_grid.Grid | None]:
    """The spectrum of a file, its rounding floor and its codec frame grid (what the
    verdicts are made from), cached under ``work``."""
    from cantata import audio

    path, work = job
    cache = work / "spectra7" / f"{hashlib.md5(path.encode()).hexdigest()}.npz"
    if cache.exists():
        with np.load(cache) as z:
            floor = float(z["floor"])
            grid = (mdct_grid.Grid(str(z["grid_codec"]), int(z["grid_offset"]),
                                   *map(float, z["grid"])) if z["grid"].size else None)
            return (z["freqs"], z["level"], int(z["rate"]), None if np.isnan(floor) else floor,
                    grid)
    wav = audio.load(path)
    freqs, level = bw.spectrum(wav.samples.mean(axis=0), wav.sample_rate)
    floor = bw.rounding_floor_db(bw.integer_bits(wav.samples), wav.n_channels)
    grid = mdct_grid.find_grid(wav.samples, wav.sample_rate)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, freqs=freqs, level=level, rate=wav.sample_rate,
             floor=np.nan if floor is None else floor,
             grid=np.array([] if grid is None else [grid.zero_share, grid.typical_share,
                                                      grid.z]),
             grid_codec="" if grid is None else grid.codec,
             grid_offset=0 if grid is None else grid.offset)
    return freqs, level, wav.sample_rate, floor, grid


#: whether verdicts use the codec frame grid (``--no-grid``: the shelf rule alone)
USE_GRID = True


def verdicts(items: list[Item], spectra: dict[str, tuple]) -> dict[str, bw.Bandwidth]:
    """Each file's verdict, as ``bandwidth.analyse`` makes it, from its cached facts."""
    out = {}
    for i in items:
        freqs, level, rate, floor, grid = spectra[i.path]
        found = bw.judge(freqs, level, rate, floor)
        out[i.path] = bw.with_grid(found, grid) if USE_GRID else found
    return out


def rates(items: list[Item], found: dict[str, bw.Bandwidth], *, either: bool = False
          ) -> tuple[float, float]:
    """(share of transcodes found, share of genuine files accused) of ``items``; with
    ``either``, a verdict of upsampled counts too (the file is flagged as not what it
    claims, under the other name)."""
    def flagged(i: Item) -> bool:
        b = found[i.path]
        return b.transcoded or (either and b.upsampled)

    fakes = [i for i in items if i.codec]
    real = [i for i in items if not i.codec]
    hit = np.mean([flagged(i) for i in fakes]) if fakes else float("nan")
    false = np.mean([flagged(i) for i in real]) if real else float("nan")
    return float(hit), float(false)


def tune(train: list[Item], spectra: dict[str, tuple]) -> dict[str, float]:
    """The shelf thresholds (dB; ``SHELF_DB`` and ``FLOOR_SHELF_DB``) that find the most
    train transcodes while accusing at most 2 % of the train originals (a margin under the
    5 % bar), then the grid's (``mdct_grid.MIN_Z`` and ``MIN_EXCESS``) likewise, and each
    codec and bitrate's median shelf (Hz) on the stereo 44.1/48 kHz sources
    (``bandwidth.SHELVES``)."""
    import soundfile as sf

    global USE_GRID
    use_grid, USE_GRID = USE_GRID, False  # the shelf rule first, alone
    scores = {}
    for shelf_db in np.arange(14.0, 40.5, 2.0):
        for floor_db in np.arange(4.0, 20.5, 1.0):
            bw.SHELF_DB, bw.FLOOR_SHELF_DB = float(shelf_db), float(floor_db)
            scores[float(shelf_db), float(floor_db)] = rates(train, verdicts(train, spectra))
    bw.SHELF_DB, bw.FLOOR_SHELF_DB = _best(scores)
    USE_GRID = use_grid
    scores = {}
    for min_z in (6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 30.0):
        for min_excess in (0.005, 0.01, 0.02, 0.03, 0.05):
            mdct_grid.MIN_Z, mdct_grid.MIN_EXCESS = min_z, min_excess
            scores[min_z, min_excess] = rates(train, verdicts(train, spectra))
    mdct_grid.MIN_Z, mdct_grid.MIN_EXCESS = _best(scores)
    found = verdicts(train, spectra)
    shelves: dict[str, list[float]] = defaultdict(list)
    for i in train:
        if (i.codec and found[i.path].transcoded and found[i.path].shelf_hz is not None
                and spectra[i.path][2] >= 44100 and sf.info(i.source).channels == 2):
            shelves[f"{i.codec} {i.kbps}k"].append(found[i.path].shelf_hz)
    return {"SHELF_DB": bw.SHELF_DB, "FLOOR_SHELF_DB": bw.FLOOR_SHELF_DB,
            "MIN_Z": mdct_grid.MIN_Z, "MIN_EXCESS": mdct_grid.MIN_EXCESS,
            **{k: float(np.median(v)) for k, v in sorted(shelves.items())}}


def _best(scores: dict[tuple[float, float], tuple[float, float]]) -> tuple[float, float]:
    """The setting finding the most transcodes among those accusing at most 2 % of the
    originals (or, when none does, the fewest), of ``scores``: setting -> (found,
    accused); the first such in order on a tie."""
    return min(scores, key=lambda k: (max(scores[k][1], 0.02), -scores[k][0]))


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}")
    widths = [max(len(h), *(len(r[c]) for r in rows)) if rows else len(h)
              for c, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


def report(split: str, items: list[Item], found: dict[str, bw.Bandwidth]) -> None:
    part = [i for i in items if i.split == split]
    by_setting: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for i in part:
        if i.codec:
            full = "full band" if not i.group.startswith(("synth", "MIR")) else i.group
            by_setting[(full, f"{i.codec} {i.kbps}k")].append(i)
    rows = [[g, s, str(len(v)), f"{100 * rates(v, found)[0]:.1f} %",
             f"{100 * rates(v, found, either=True)[0]:.1f} %"]
            for (g, s), v in sorted(by_setting.items())]
    table(f"[{split}] transcodes found, by codec and bitrate", [
        "sources", "encode", "files", "found", "flagged (or upsampled)"], rows)
    groups = sorted({i.group for i in part})
    full = [i for i in part if not i.group.startswith(("synth", "MIR"))]
    rows = []
    for g, inside in [*((g, [i for i in part if i.group == g]) for g in groups),
                      ("ALL 44.1/48 kHz sources", full), ("ALL", part)]:
        hit, false = rates(inside, found)
        hit_either, false_either = rates(inside, found, either=True)
        rows.append([g, str(sum(not i.codec for i in inside)), f"{100 * false:.1f} %",
                     f"{100 * false_either:.1f} %", str(sum(bool(i.codec) for i in inside)),
                     f"{100 * hit:.1f} %", f"{100 * hit_either:.1f} %"])
    table(f"[{split}] per source group (either: transcoded or upsampled)", [
        "group", "originals", "accused", "accused (either)", "transcodes", "found",
        "flagged (either)"], rows)
    caught = [i for i in full if i.codec and found[i.path].transcoded]
    codec_ok = np.mean([found[i.path].codec == i.codec for i in caught]) if caught else 0
    rate_ok = np.mean([found[i.path].bitrate_class == f"{i.kbps}k" for i in caught]) \
        if caught else 0
    print(f"[{split}] of the transcodes found (44.1/48 kHz): codec named right "
          f"{100 * codec_ok:.1f} %, bitrate class right {100 * rate_ok:.1f} %")
    evidence: dict[str, int] = defaultdict(int)
    for i in caught:
        evidence[str(found[i.path].evidence)] += 1
    print(f"[{split}] found by: " + ", ".join(f"{k} {v}" for k, v in sorted(evidence.items())))
    accused = [i.path for i in part if not i.codec and found[i.path].transcoded]
    for path in accused:
        b = found[path]
        print(f"  accused: {path} ({b.evidence}: shelf {b.shelf_hz or 0:.0f} Hz, "
              f"{b.shelf_db:.1f} dB; grid {b.grid})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for the encodes")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tsp", type=int, default=48, help="TSP utterances (spread)")
    parser.add_argument("--sonic-pi", type=int, default=60, help="sonic-pi samples")
    parser.add_argument("--mir1k", type=int, default=24, help="MIR-1K accompaniments")
    parser.add_argument("--gm", type=int, default=12,
                        help="General MIDI solo instruments rendered by FluidSynth (dull)")
    parser.add_argument("--songs", help="a `cantata data synth song` folder")
    parser.add_argument("--no-grid", action="store_true",
                        help="the shelf rule alone (no codec frame grid test)")
    args = parser.parse_args(argv)
    global USE_GRID
    USE_GRID = not args.no_grid
    if shutil.which("ffmpeg") is None:
        sys.exit("needs the ffmpeg command")
    args.work.mkdir(parents=True, exist_ok=True)
    originals = sources(args)
    jobs = [(i, c, k, args.work) for i in originals for c in CODECS for k in BITRATES]
    with ProcessPoolExecutor(args.jobs) as pool:
        encodes = [i for i in pool.map(transcode, jobs, chunksize=4) if i is not None]
        items = originals + encodes
        spectra = dict(zip([i.path for i in items],
                           pool.map(features, [(i.path, args.work) for i in items],
                                    chunksize=8),
                           strict=True))
    shipped = bw.SHELF_DB, bw.FLOOR_SHELF_DB, mdct_grid.MIN_Z, mdct_grid.MIN_EXCESS
    tuned = tune([i for i in items if i.split == "train"], spectra)
    print(f"{len(originals)} originals, {len(encodes)} transcodes; tuned on train: "
          f"{tuned} (shipped SHELF_DB, FLOOR_SHELF_DB, MIN_Z, MIN_EXCESS: {shipped})")
    bw.SHELF_DB, bw.FLOOR_SHELF_DB, mdct_grid.MIN_Z, mdct_grid.MIN_EXCESS = shipped
    found = verdicts(items, spectra)
    report("train", items, found)
    report("test", items, found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
