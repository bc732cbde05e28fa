"""Training material for restoration: clean music (and speech) with noise, as pairs.

``cantata data synth noisy`` writes, like the other kinds, one folder per example
(``noisy-000123/clean.flac``, ``noisy.flac`` and ``example.json``, renamed into place when
complete, so an interrupted run resumes) and ``manifest.jsonl`` last. Each example is a
mono clip at ``sample_rate`` (48 kHz by default):

- ``stems``: ``{"clean": …, "noisy": …}``; ``audio`` is the noisy file;
- ``meta["snr_db"]``: the level of the music over the stationary noise (None for a clean
  pair); ``meta["noise"]``: the noise types (:mod:`cantata.data.synth.noisy_noise`), with
  ``"clicks"``/``"crackle"`` (added at a peak level, not counted in the SNR) and
  ``"phone"`` (both files band-limited to 300-3400 Hz, the noisy one also through a
  narrow-band codec: a mask can remove noise, not restore a band);
- ``group``: the source track (split by it, never by clip).

Clean material is read as ``cantata data synth defects`` reads it (Debian soundtracks,
MIR-1K mixes, manifest folders, any folder of audio such as clean speech); the detection
benchmark's held-out soundtracks are left out. Real noise comes from folders of noise
recordings, less the files named in ``hold_out`` (kept for testing).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cantata import audio
from cantata.data.records import MANIFEST_NAME, Example, write_manifest
from cantata.data.sources._files import audio_files, require_dir
from cantata.data.synth.defect_clips import DefectSetConfig, clean_music, draw_clip
from cantata.data.synth.defect_codec import roundtrip
from cantata.data.synth.factory import EXAMPLE_FILE, FactoryReport, cpu_seconds
from cantata.data.synth.noisy_noise import (
    IMPULSE_TYPES,
    NOISE_TYPES,
    NoiseBank,
    draw_noise,
    phone_band,
)
from cantata.errors import ConfigError
from cantata.types import Waveform

KIND = "noisy"
#: Keeps these clips' random streams apart from the other kinds'.
SEED_STREAM = 3
#: the real noise file left out of training by default (for ``bench/restore_quality.py``)
HELD_OUT_NOISE = ("running_tap",)
_STATE: dict[str, Any] = {}


@dataclass(frozen=True)
class NoisySetConfig:
    """What ``synth noisy`` makes.

    Attributes:
        music: clean material roots (``"debian"``, MIR-1K, manifest or audio folders).
        speech: folders of clean speech: clean material too, and the talkers of babble.
        noise: folders (or files) of real noise recordings.
        hold_out: real noise files (by name without suffix) never used.
        types: stationary noise types to draw from (default all the inputs allow).
        example_s: clip length (a shorter track gives a shorter clip).
        sample_rate: of the pairs.
        snr_db: (low, high) range of the music-to-noise ratio.
        p_clean: share of pairs left clean (the noisy file equals the clean one).
        p_impulses: share of noisy pairs that also get clicks or crackle.
        p_phone: share of noisy pairs made phone-like.
    """

    music: tuple[str, ...] = ("debian",)
    speech: tuple[str, ...] = ()
    noise: tuple[str, ...] = ()
    hold_out: tuple[str, ...] = HELD_OUT_NOISE
    types: tuple[str, ...] = ()
    example_s: float = 6.0
    sample_rate: int = 48000
    snr_db: tuple[float, float] = (-5.0, 25.0)
    p_clean: float = 0.15
    p_impulses: float = 0.2
    p_phone: float = 0.1

    def __post_init__(self) -> None:
        for key in ("p_clean", "p_impulses", "p_phone"):
            if not 0 <= getattr(self, key) <= 1:
                raise ConfigError(f"{key} must be within 0..1, got {getattr(self, key)}")
        unknown = [t for t in self.types if t not in NOISE_TYPES]
        if unknown:
            raise ConfigError(f"unknown noise types {unknown}; known: {', '.join(NOISE_TYPES)}")
        if self.example_s <= 0 or self.sample_rate <= 0 or self.snr_db[0] > self.snr_db[1]:
            raise ConfigError("example_s and sample_rate must be > 0 and snr_db (low, high)")


def noise_files(roots: Sequence[str], hold_out: Sequence[str] = HELD_OUT_NOISE) -> list[str]:
    """The real noise recordings under ``roots`` (folders or files), less ``hold_out``.

    Raises:
        ConfigError: a root is missing or holds no audio.
    """
    files: list[Path] = []
    for root in roots:
        path = Path(root)
        if path.is_file():
            files.append(path)
            continue
        found = audio_files(require_dir(path, "noise folder"))
        if not found:
            raise ConfigError(f"{path}: no audio files in the noise folder")
        files += found
    return [str(p) for p in sorted(files) if p.stem not in set(hold_out)]


def speech_files(roots: Sequence[str]) -> list[str]:
    """Every audio file under the speech folders."""
    return [str(p) for root in roots
            for p in audio_files(require_dir(Path(root), "speech folder"))]


def degrade(rng: np.random.Generator, clean: np.ndarray, bank: NoiseBank,
            config: NoisySetConfig) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(clean target, noisy, label) of one clean mono clip; see the module docstring."""
    rate, n = bank.rate, clean.shape[-1]
    if rng.random() < config.p_clean:
        return clean, clean.copy(), {"snr_db": None, "noise": []}
    phone = rng.random() < config.p_phone
    if phone:
        clean = phone_band(clean, rate)
    noise, types = draw_noise(rng, bank, n, config.types or None)
    snr = float(rng.uniform(*config.snr_db))
    music_rms = float(np.sqrt(np.mean(clean**2)))
    noisy = clean + noise * music_rms * 10 ** (-snr / 20)
    if rng.random() < config.p_impulses:
        kind = str(rng.choice(IMPULSE_TYPES))
        level = float(np.abs(clean).max()) * rng.uniform(0.2, 1.0)
        noisy = noisy + level * bank.make(kind, rng, n)
        types.append(kind)
    if phone:
        noisy = phone_band(noisy, rate)
        codec, kbps = ("opus", 12) if rng.random() < 0.5 else ("mp3", 24)
        noisy = roundtrip(noisy[None], rate, codec=codec, bit_rate=kbps * 1000,
                          codec_sr=8000 if codec == "mp3" else 48000, mono=True)[0]
        types.append("phone")
    return clean, noisy.astype(np.float32), {"snr_db": round(snr, 2), "noise": types}


def example_id(index: int) -> str:
    return f"{KIND}-{index:06d}"


def build_noisy_example(index: int, *, seed: int, out_dir: Path, pool: Sequence[Example],
                        bank: NoiseBank, config: NoisySetConfig) -> Example:
    """Make example ``index`` (a function of ``seed`` and ``index``), written atomically."""
    rng = np.random.default_rng([seed, SEED_STREAM, index])
    clip = draw_clip(rng, pool, DefectSetConfig(music=config.music, example_s=config.example_s,
                                                sample_rate=config.sample_rate, p_encoded=0.0))
    clean = clip.buffer[:, : clip.n].mean(axis=0)
    clean, noisy, label = degrade(rng, clean, bank, config)
    peak = max(float(np.abs(noisy).max()), float(np.abs(clean).max()), 1e-9)
    gain = 10 ** (rng.uniform(-24, -1) / 20) / peak  # levels vary; nothing clips
    ex_id = example_id(index)
    final, part = out_dir / ex_id, out_dir / f".{ex_id}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    for name, x in (("clean", clean), ("noisy", noisy)):
        audio.save(part / f"{name}.flac", Waveform(gain * x, config.sample_rate),
                   subtype="PCM_24")
    example = Example(
        id=ex_id, audio=str(final / "noisy.flac"),
        stems={"clean": str(final / "clean.flac"), "noisy": str(final / "noisy.flac")},
        duration_s=clean.shape[-1] / config.sample_rate, sample_rate=config.sample_rate,
        group=clip.meta["track"], source=clip.meta["source"],
        meta={"seed": seed, "index": index, **label, "gain": gain, "clip": clip.meta})
    (part / EXAMPLE_FILE).write_text(json.dumps(example.to_dict(relative_to=final)))
    os.replace(part, final)
    return example


def synthesize_noisy(*, hours: float, out_dir: str | os.PathLike[str], jobs: int = 1,
                     seed: int = 0, config: NoisySetConfig | None = None,
                     on_progress: Callable[[int], None] | None = None) -> FactoryReport:
    """Make ``hours`` of clean/noisy pairs in ``out_dir``, resuming a previous run.

    Args:
        hours: rounded up to whole clips of ``config.example_s``.
        out_dir: created if missing; examples already complete there are kept.
        jobs: worker processes.
        seed: the set is a function of (seed, config, the inputs).
        on_progress: called with the number of examples finished, after each one.

    Raises:
        ConfigError: missing inputs, or no noise type the inputs allow.
    """
    config = config or NoisySetConfig()
    pool = clean_music((*config.music, *config.speech))
    noise, speech = noise_files(config.noise, config.hold_out), speech_files(config.speech)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_examples = max(1, math.ceil(hours * 3600 / config.example_s))
    todo = [i for i in range(n_examples) if not (out / example_id(i) / EXAMPLE_FILE).exists()]
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    state = (pool, noise, speech, config)
    for done, _ in enumerate(_run(todo, seed=seed, out=out, state=state, jobs=jobs), 1):
        if on_progress is not None:
            on_progress(done)
    examples = [Example.from_dict(json.loads((out / example_id(i) / EXAMPLE_FILE).read_text()),
                                  relative_to=out / example_id(i)) for i in range(n_examples)]
    manifest = write_manifest(out / MANIFEST_NAME, examples)
    return FactoryReport(manifest, n_examples, len(todo),
                         sum(ex.duration_s for ex in examples) / 3600,
                         time.perf_counter() - start_wall, cpu_seconds() - start_cpu)


_State = tuple[tuple[Example, ...], list[str], list[str], NoisySetConfig]


def _run(todo: list[int], *, seed: int, out: Path, state: _State, jobs: int) -> Iterator[int]:
    tasks = [(i, seed, out) for i in todo]
    if jobs <= 1 or len(todo) <= 1:
        _set_state(state)
        yield from map(_build_task, tasks)
        return
    with multiprocessing.get_context("spawn").Pool(jobs, _set_state, (state,)) as pool_:
        yield from pool_.imap_unordered(_build_task, tasks)


def _set_state(state: _State) -> None:
    pool, noise, speech, config = state
    _STATE.update(pool=pool, config=config,
                  bank=NoiseBank(noise, speech, config.sample_rate))


def _build_task(task: tuple[int, int, Path]) -> int:
    index, seed, out = task
    build_noisy_example(index, seed=seed, out_dir=out, pool=_STATE["pool"],
                        bank=_STATE["bank"], config=_STATE["config"])
    return index
