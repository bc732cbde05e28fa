"""Training material for defect detection: clips of clean music with defects injected.

``cantata data synth defects`` writes, like the other factory kinds, one folder per
example (``defects-000123/audio.flac`` and ``example.json``, renamed into place when
complete, so an interrupted run resumes) and ``manifest.jsonl`` last. Each example is a
clip (``example_s``, or a whole shorter track) of clean music at its own rate and channel
count, with 0..3 defects of :mod:`cantata.data.synth.defects`:

- ``regions``: the STRONG labels, one Segment per event (label = defect type), its times
  rounded outward to 0.1 ms; the exact sample spans are in ``meta["defects"]``;
- ``meta["defect_types"]``: the WEAK clip labels (sorted types present; ``[]`` = clean);
- ``group``: the source track (split by it, never by clip); ``source``: the collection;
  ``meta["clip"]``: source file, offset, high-pass (the clean clip loses its DC and
  sub-sonic drift, which some sources have), gain (a clean clip over full scale, e.g.
  summed stems, is scaled to a peak of 0.99), ``encoded`` (a transparent MP3/AAC/Opus
  encode the clean music went through, or None), track.

The audio is FLAC 24-bit, or float WAV when a sample exceeds full scale (a DC offset or a
click on loud music), so every defect survives exactly as injected.

Clean music: ``"debian"`` (the installed game soundtracks, whole tracks), MIR-1K folders
(stems summed to the mix), folders with a ``manifest.jsonl`` (e.g. ``cantata data synth
song`` output: its mixtures), or any folder of audio files. The detection benchmark's
held-out soundtracks are left out unless asked.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cantata import audio
from cantata.data.labels import DEFECT_TYPES
from cantata.data.records import MANIFEST_NAME, Example, read_manifest, write_manifest
from cantata.data.sources import load_instrumentals, load_mir1k, read_stems, split_benchmark
from cantata.data.sources.defect_labels import WEAK_KEY, load_weak_labels
from cantata.data.sources.instrumentals import SAMPLE_PACKS
from cantata.data.sources.stems import CHANNEL_LAYOUT
from cantata.data.sources.stems import duration_s as header_duration_s
from cantata.data.synth.defect_codec import codec_rate, gsm_available, roundtrip
from cantata.data.synth.defects import Defect, InjectConfig, draw_defects, inject_labelled
from cantata.data.synth.factory import EXAMPLE_FILE, FactoryReport, cpu_seconds
from cantata.errors import ConfigError
from cantata.types import Segment, Waveform

KIND = "defects"
DEBIAN = "debian"
#: ``Example.source`` of clips from the user's own folders of audio.
MUSIC = "music"
#: Spare music read past each clip, for a ``skip`` discontinuity to pull in.
MARGIN_S = 0.5
#: Peak a clean clip over full scale is scaled to (``meta["clip"]["gain"]``).
CLEAN_PEAK = 0.99
#: Clean clips lose what lies below this (Hz): a DC offset or sub-sonic drift of the source
#: recording (some of the soundtracks have one) would be a defect no label names.
HIGHPASS_HZ = 10.0
#: Transparent encodes a clean clip may pass through first (codec -> kbit/s range): how
#: most catalog music arrives, and no defect.
TRANSPARENT = {"mp3": (128, 320), "aac": (128, 256), "opus": (96, 192)}
#: Tracks shorter than this (plus the margin) are not used.
MIN_TRACK_S = 2.0
#: Keeps these clips' random streams apart from the song and speech-mix kinds'.
SEED_STREAM = 2
_POOL: tuple[Example, ...] = ()


@dataclass(frozen=True)
class DefectSetConfig:
    """What ``synth defects`` makes.

    Attributes:
        music: clean music roots (``"debian"``, MIR-1K, manifest or audio folders).
        example_s: clip length (a shorter track gives a shorter clip).
        sample_rate: resample every clip to this; None keeps each track's rate.
        include_benchmark: also use the detection benchmark's held-out soundtracks.
        inject: how many defects of which types.
        weak_labels: CSV tables of the user's own weak labels, listed in the manifest too.
        p_encoded: share of clips whose clean music first goes through a transparent lossy
            encode (:data:`TRANSPARENT`), so that "codec" means damage, not "was encoded".
    """

    music: tuple[str, ...] = (DEBIAN,)
    example_s: float = 10.0
    sample_rate: int | None = None
    include_benchmark: bool = False
    inject: InjectConfig = field(default_factory=InjectConfig)
    weak_labels: tuple[str, ...] = ()
    p_encoded: float = 0.3

    def __post_init__(self) -> None:
        if not 0 <= self.p_encoded <= 1:
            raise ConfigError(f"p_encoded must be within 0..1, got {self.p_encoded}")


def clean_music(roots: Sequence[str], *, include_benchmark: bool = False) -> tuple[Example, ...]:
    """Every usable track under ``roots``, without the benchmark's test tracks unless asked.

    Raises:
        ConfigError: a root is missing or holds no audio, or nothing is left.
    """
    if not roots:
        raise ConfigError("no clean music given: pass --music DIR (or 'debian')")
    tracks = _dedup(ex for root in roots for ex in _load_root(root))
    if not include_benchmark:
        held = _benchmark_files()
        tracks = [ex for ex in tracks if not ex.audio or Path(ex.audio).resolve() not in held]
    timed = (replace(ex, duration_s=header_duration_s(ex)) for ex in tracks)
    kept = tuple(ex for ex in timed if ex.duration_s >= MIN_TRACK_S + MARGIN_S)
    if not kept:
        raise ConfigError(f"no clean music of at least {MIN_TRACK_S + MARGIN_S:g} s in "
                          f"{', '.join(roots)}" + ("" if include_benchmark else
                                                  " once the benchmark's tracks are held out"))
    return kept


def _load_root(root: str) -> list[Example]:
    """The tracks of one root, whatever its kind."""
    if root == DEBIAN:
        try:
            return [ex for ex in _installed() if ex.group not in SAMPLE_PACKS]
        except ConfigError as err:
            raise ConfigError(f"{err}; or pass --music DIR") from err
    folder = Path(root)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: music folder not found")
    if (folder / MANIFEST_NAME).is_file():
        return [ex for ex in read_manifest(folder) if ex.audio or ex.stems]
    try:
        return load_mir1k(folder)
    except ConfigError:
        return [replace(ex, source=MUSIC) for ex in load_instrumentals([folder])]


def _dedup(examples: Iterator[Example]) -> list[Example]:
    seen: dict[str, Example] = {}
    for ex in examples:
        seen.setdefault(ex.id, ex)
    return list(seen.values())


def _benchmark_files() -> set[Path]:
    """The detection benchmark's held-out soundtrack files (none when not installed)."""
    try:
        installed = _installed()
    except ConfigError:
        return set()
    return {Path(ex.audio).resolve() for ex in split_benchmark(installed)[1] if ex.audio}


@lru_cache(maxsize=1)
def _installed() -> tuple[Example, ...]:
    """The installed Debian soundtracks and sample packs (read once: it probes every file)."""
    return tuple(load_instrumentals())


def track_of(example: Example) -> str:
    """The recording a clean example comes from: what a split must keep together."""
    if example.source == "mir1k":  # <singer>_<song>_<clip>: the song is the track
        return "_".join(example.id.split("_")[:2])
    return example.id


@dataclass(frozen=True)
class Clip:
    """A clean clip: ``buffer`` (channels, n + spare) at ``rate``, and where it comes from."""

    buffer: np.ndarray
    rate: int
    n: int
    meta: dict[str, Any]


def draw_clip(rng: np.random.Generator, pool: Sequence[Example], config: DefectSetConfig) -> Clip:
    """A random stretch of a random track (chosen in proportion to its length)."""
    lengths = np.array([ex.duration_s - MARGIN_S for ex in pool])
    example = pool[int(rng.choice(len(pool), p=lengths / lengths.sum()))]
    usable = example.duration_s - MARGIN_S
    take = min(config.example_s, usable)
    offset = float(rng.uniform(0.0, usable - take))
    wav = _read(example, offset, take + MARGIN_S, config.sample_rate)
    n = min(round(take * wav.sample_rate), wav.n_samples - round(MARGIN_S * wav.sample_rate))
    if n <= 0:
        raise ConfigError(f"{example.audio or example.id}: shorter than its header says")
    encoded = None
    if rng.random() < config.p_encoded:
        codec = str(rng.choice(sorted(TRANSPARENT)))
        encoded = {"codec": codec, "kbps": int(rng.integers(*TRANSPARENT[codec], endpoint=True))}
    peak = float(np.abs(remove_dc(wav.samples, wav.sample_rate)).max(initial=0.0))
    gain = CLEAN_PEAK / peak if peak > 1.0 else 1.0  # e.g. summed stems: not a defect
    meta = {"source": example.source or MUSIC, "source_id": example.id,
            "file": example.audio or dict(example.stems), "offset_s": offset,
            "highpass_hz": HIGHPASS_HZ, "gain": gain, "encoded": encoded,
            "track": track_of(example), "source_group": example.group}
    return Clip(prepare_clean(wav.samples, wav.sample_rate, gain=gain, encoded=encoded),
                wav.sample_rate, n, meta)


def prepare_clean(samples: np.ndarray, rate: int, *, gain: float = 1.0,
                  encoded: dict[str, Any] | None = None) -> np.ndarray:
    """A clean clip (channels, time) as the defects are injected into it: its DC removed
    (:func:`remove_dc`), times ``gain``, then, if ``encoded`` (``{"codec", "kbps"}``),
    encoded and decoded back (Opus at 48 kHz, its full band; MP3 and AAC at the clip's
    rate or the nearest they take)."""
    x = remove_dc(samples, rate) * np.float32(gain)
    if encoded is None:
        return x
    codec = encoded["codec"]
    codec_sr = 48000 if codec == "opus" else codec_rate(codec, rate)
    return roundtrip(x, rate, codec=codec, bit_rate=1000 * int(encoded["kbps"]),
                     codec_sr=codec_sr).astype(np.float32)


def remove_dc(samples: np.ndarray, rate: int) -> np.ndarray:
    """(channels, time) less its content below :data:`HIGHPASS_HZ`: the mean removed, then
    a zero-phase 2nd-order Butterworth high-pass; float32."""
    from scipy.signal import butter, sosfiltfilt

    x = samples - samples.mean(axis=-1, keepdims=True)
    if x.shape[-1] < 64:
        return x.astype(np.float32)
    sos = butter(2, HIGHPASS_HZ, btype="highpass", fs=rate, output="sos")
    return sosfiltfilt(sos, x, axis=-1, padlen=min(x.shape[-1] - 1, 3 * rate // 10)
                       ).astype(np.float32)


def _read(example: Example, offset_s: float, duration_s: float,
          sample_rate: int | None) -> Waveform:
    """The mix: the file itself, or the sum of its stems (MIR-1K)."""
    kw = {"offset_s": offset_s, "duration_s": duration_s, "sample_rate": sample_rate}
    if example.audio and CHANNEL_LAYOUT not in example.meta:
        return audio.load(example.audio, **kw)
    stems = list(read_stems(example, **kw).values())
    n = min(s.n_samples for s in stems)
    return Waveform(sum(s.to_mono().samples[:, :n] for s in stems), stems[0].sample_rate)


def example_id(index: int) -> str:
    return f"{KIND}-{index:06d}"


def build_defect_example(index: int, *, seed: int, out_dir: Path, pool: Sequence[Example],
                         config: DefectSetConfig) -> Example:
    """Make example ``index`` (a function of ``seed`` and ``index``), written atomically."""
    rng = np.random.default_rng([seed, SEED_STREAM, index])
    clip = draw_clip(rng, pool, config)
    defects = draw_defects(rng, clip.buffer, clip.rate, clip.n, config.inject)
    samples, defects = inject_labelled(clip.buffer, clip.rate, clip.n, defects)
    ex_id = example_id(index)
    final, part = out_dir / ex_id, out_dir / f".{ex_id}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    over = float(np.abs(samples).max(initial=0.0)) > 1.0
    name = "audio.wav" if over else "audio.flac"
    audio.save(part / name, Waveform(samples, clip.rate), subtype="FLOAT" if over else "PCM_24")
    example = Example(
        id=ex_id, audio=str(final / name), regions=_strong(defects, clip.rate),
        duration_s=clip.n / clip.rate, sample_rate=clip.rate, group=clip.meta["track"],
        source=clip.meta["source"],
        meta={"seed": seed, "index": index, WEAK_KEY: sorted({d.type for d in defects}),
              "labels": list(DEFECT_TYPES), "defects": [d.to_dict(clip.rate) for d in defects],
              "clip": clip.meta})
    (part / EXAMPLE_FILE).write_text(json.dumps(example.to_dict(relative_to=final)))
    os.replace(part, final)
    return example


def _strong(defects: list[Defect], rate: int) -> tuple[Segment, ...]:
    """Every event as a Segment, rounded outward to 0.1 ms, sorted by start."""
    segments = [Segment(math.floor(s.start_s * 1e4) / 1e4, math.ceil(s.end_s * 1e4) / 1e4,
                        s.label) for d in defects for s in d.segments(rate)]
    return tuple(sorted(segments, key=lambda s: (s.start_s, s.label)))


def synthesize_defects(*, hours: float, out_dir: str | os.PathLike[str], jobs: int = 1,
                       seed: int = 0, config: DefectSetConfig | None = None,
                       on_progress: Callable[[int], None] | None = None) -> FactoryReport:
    """Make ``hours`` of defect clips in ``out_dir``, resuming a previous run.

    Args:
        hours: rounded up to whole clips of ``config.example_s``.
        out_dir: created if missing; examples already complete there are kept.
        jobs: worker processes.
        seed: the set is a function of (seed, config, the clean music).
        on_progress: called with the number of examples finished, after each one.
    """
    config = config or DefectSetConfig()
    if "gsm" in config.inject.phone_codecs and not gsm_available():
        raise ConfigError("codec phone passages use GSM: install the ffmpeg command with "
                          "libgsm (apt-get install ffmpeg), or leave gsm out of the phone "
                          "codecs (--phone-codecs opus)")
    weak = [ex for table in config.weak_labels for ex in load_weak_labels(table)]
    pool = clean_music(config.music, include_benchmark=config.include_benchmark)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_examples = max(1, math.ceil(hours * 3600 / config.example_s))
    todo = [i for i in range(n_examples) if not (out / example_id(i) / EXAMPLE_FILE).exists()]
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    for done, _ in enumerate(_run(todo, seed=seed, out=out, pool=pool, config=config,
                                  jobs=jobs), 1):
        if on_progress is not None:
            on_progress(done)
    examples = [Example.from_dict(json.loads((out / example_id(i) / EXAMPLE_FILE).read_text()),
                                  relative_to=out / example_id(i)) for i in range(n_examples)]
    manifest = write_manifest(out / MANIFEST_NAME, examples + weak)
    return FactoryReport(manifest, n_examples, len(todo),
                         sum(ex.duration_s for ex in examples) / 3600,
                         time.perf_counter() - start_wall, cpu_seconds() - start_cpu)


def _run(todo: list[int], *, seed: int, out: Path, pool: tuple[Example, ...],
         config: DefectSetConfig, jobs: int) -> Iterator[int]:
    tasks = [(i, seed, out, config) for i in todo]
    if jobs <= 1 or len(todo) <= 1:
        _set_pool(pool)
        yield from map(_build_task, tasks)
        return
    with multiprocessing.get_context("spawn").Pool(jobs, _set_pool, (pool,)) as pool_:
        yield from pool_.imap_unordered(_build_task, tasks)


def _set_pool(pool: tuple[Example, ...]) -> None:
    global _POOL
    _POOL = pool


def _build_task(task: tuple[int, int, Path, DefectSetConfig]) -> int:
    index, seed, out, config = task
    build_defect_example(index, seed=seed, out_dir=out, pool=_POOL, config=config)
    return index
