"""The factory: synthetic songs and speech mixes with exact stems and labels.

Two kinds of example, each deterministic from ``(seed, index)``:

- ``song``: a sung melody over its accompaniment, arranged in sections (intro,
  verses, instrumental breaks, a cappella passages, silences), stems ``vocals`` and
  ``accompaniment``, regions ``vocal`` / ``accompaniment`` / ``silence``;
- ``speech-mix``: spoken utterances over an instrumental bed, stems ``speech`` and
  ``instrumental``, regions ``speech`` (the source task of the singing detector).

Every example is written into its own folder (``<id>/mixture.flac`` plus one file per
stem, 24-bit, so the mixture equals the sum of the stems within 1e-6) and renamed
into place when complete, so an interrupted run resumes where it stopped. The
manifest (``manifest.jsonl``) is written last.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cantata import audio
from cantata.data.labels import ActivityConfig, song_segments, stem_activity
from cantata.data.records import MANIFEST_NAME, Example, write_manifest
from cantata.data.synth import real, structure
from cantata.errors import ConfigError
from cantata.regions import frames_to_segments
from cantata.types import Segment, Waveform

KINDS = ("speech-mix", "song")
EXAMPLE_FILE = "example.json"


@dataclass(frozen=True)
class FactoryConfig:
    """What the factory makes.

    Attributes:
        sample_rate: of every file written.
        example_s: length of each example.
        vocal_snr_db: songs: vocal-to-accompaniment energy ratio range (where both sound).
        speech_snr_db: speech mixes: speech-to-instrumental energy ratio range.
        peak_dbfs: range of the mixture's peak level.
        p_no_bed: speech mixes: probability of speech with no instrumental at all.
        real_speech: folders of real speech (LibriSpeech-style or speaker folders).
        real_instrumentals: folders of vocal-free music (e.g. Debian game soundtracks).
        real_vocals: folders of isolated singing (MIR-1K-style stems).
        p_real: probability of using a real recording for a part when its folders are set.
        activity: how labels are derived from the clean stems.
    """

    sample_rate: int = 22050
    example_s: float = 30.0
    vocal_snr_db: tuple[float, float] = (-3.0, 9.0)
    speech_snr_db: tuple[float, float] = (-6.0, 12.0)
    peak_dbfs: tuple[float, float] = (-6.0, -1.0)
    p_no_bed: float = 0.1
    real_speech: tuple[str, ...] = ()
    real_instrumentals: tuple[str, ...] = ()
    real_vocals: tuple[str, ...] = ()
    p_real: float = 0.3
    activity: ActivityConfig = field(default_factory=ActivityConfig)


def make_song(rng: np.random.Generator,
              config: FactoryConfig) -> tuple[dict[str, Waveform], dict[str, Any]]:
    """One song: stems {"vocals", "accompaniment"} (1, time) and provenance."""
    from cantata.data.synth.accompaniment import random_accompaniment
    from cantata.data.synth.singing import sing

    rate, n = config.sample_rate, round(config.example_s * config.sample_rate)
    backing, arrangement = random_accompaniment(rng, duration_s=config.example_s,
                                                sample_rate=rate)
    backing_meta: dict[str, Any] = arrangement.meta
    if _use_real(rng, config.real_instrumentals, config.p_real):
        backing, backing_meta = real.fill("instrumentals", config.real_instrumentals, rng,
                                          sample_rate=rate, duration_s=config.example_s)
    sections = structure.plan_sections(rng, duration_s=config.example_s)
    if _use_real(rng, config.real_vocals, config.p_real):
        vocals, voice_meta = _real_vocals(rng, sections, config)
    else:
        notes = structure.sung_notes(arrangement.melody, sections)
        vocals, voice_meta = sing(notes, rng, sample_rate=rate) if notes else (
            _silence(n, rate), {})
    gate = structure.accompaniment_gain(sections, n_samples=n, sample_rate=rate)
    stems = {"vocals": _fit(vocals.to_mono(), n),
             "accompaniment": Waveform(_fit(backing.to_mono(), n).samples * gate, rate)}
    snr = rng.uniform(*config.vocal_snr_db)
    stems["vocals"] = _scale_to_snr(stems["vocals"], stems["accompaniment"], snr)
    meta = {"accompaniment": backing_meta, "voice": voice_meta, "vocal_snr_db": round(snr, 2),
            "sections": [[s.kind, round(s.start_s, 3), round(s.end_s, 3)] for s in sections]}
    return stems, meta


def make_speech_mix(rng: np.random.Generator,
                    config: FactoryConfig) -> tuple[dict[str, Waveform], dict[str, Any]]:
    """One speech mix: stems {"speech", "instrumental"} (1, time) and provenance."""
    from cantata.data.synth.accompaniment import random_accompaniment
    from cantata.data.synth.speech import random_speech

    rate, n = config.sample_rate, round(config.example_s * config.sample_rate)
    speech, utterances = np.zeros(n, np.float32), []
    t = rng.uniform(0.0, 3.0)
    while t < config.example_s - 1.0:
        if _use_real(rng, config.real_speech, config.p_real):
            wav, meta = real.draw("speech", config.real_speech, rng, sample_rate=rate,
                                  max_duration_s=min(8.0, config.example_s - t))
        else:
            wav, meta = random_speech(rng, sample_rate=rate, max_duration_s=config.example_s - t)
        start = round(t * rate)
        clip = wav.to_mono().samples[0, : n - start]
        speech[start:start + len(clip)] += clip
        utterances.append({"start_s": round(t, 3), **meta})
        t += len(clip) / rate + rng.uniform(0.3, 4.0)
    if rng.random() < config.p_no_bed:
        bed, bed_meta = _silence(n, rate), {"bed": None}
    elif _use_real(rng, config.real_instrumentals, config.p_real):
        wav, meta = real.fill("instrumentals", config.real_instrumentals, rng, sample_rate=rate,
                              duration_s=config.example_s)
        bed, bed_meta = _fit(wav, n), {"bed": meta}
    else:
        backing, arrangement = random_accompaniment(rng, duration_s=config.example_s,
                                                    sample_rate=rate)
        bed, bed_meta = _fit(backing.to_mono(), n), {"bed": arrangement.meta}
    snr = rng.uniform(*config.speech_snr_db)
    stems = {"speech": _scale_to_snr(Waveform(speech, rate), bed, snr), "instrumental": bed}
    return stems, {"utterances": utterances, "speech_snr_db": round(snr, 2), **bed_meta}


MAKERS: dict[str, Callable[[np.random.Generator, FactoryConfig],
                           tuple[dict[str, Waveform], dict[str, Any]]]] = {
    "song": make_song, "speech-mix": make_speech_mix}


def _use_real(rng: np.random.Generator, roots: tuple[str, ...], p_real: float) -> bool:
    return bool(roots) and rng.random() < p_real


def _real_vocals(rng: np.random.Generator, sections: list[structure.Section],
                 config: FactoryConfig) -> tuple[Waveform, dict[str, Any]]:
    """Fill every sung section with a stretch of real isolated singing."""
    rate = config.sample_rate
    vocals = np.zeros(round(config.example_s * rate), np.float32)
    clips = []
    for section in sections:
        if not section.vocals:
            continue
        wav, meta = real.draw("vocals", config.real_vocals, rng, sample_rate=rate,
                              max_duration_s=section.end_s - section.start_s)
        start = round(section.start_s * rate)
        clip = wav.samples[0, : len(vocals) - start]
        vocals[start:start + len(clip)] = clip
        clips.append({"start_s": round(section.start_s, 3), **meta})
    return Waveform(vocals, rate), {"real_clips": clips}


def _silence(n_samples: int, sample_rate: int) -> Waveform:
    return Waveform(np.zeros((1, n_samples), np.float32), sample_rate)


def _fit(wav: Waveform, n_samples: int) -> Waveform:
    """Cut or zero-pad to exactly ``n_samples``."""
    x = wav.samples[:, :n_samples]
    return Waveform(np.pad(x, ((0, 0), (0, n_samples - x.shape[1]))), wav.sample_rate)


def _scale_to_snr(fore: Waveform, back: Waveform, snr_db: float) -> Waveform:
    """Scale ``fore`` so its energy where it sounds is ``snr_db`` above ``back``'s there."""
    active = np.abs(fore.samples[0]) > 1e-4
    if not active.any():
        return fore
    fore_power = float(np.mean(fore.samples[0, active] ** 2))
    back_power = float(np.mean(back.samples[0, active] ** 2))
    if back_power < 1e-10:  # nothing to be heard against: a sensible absolute level
        back_power = 10 ** (-20 / 10) * 10 ** (-snr_db / 10)
    gain = math.sqrt(back_power * 10 ** (snr_db / 10) / fore_power)
    return Waveform(fore.samples * gain, fore.sample_rate)


def labels_for(kind: str, stems: dict[str, Waveform], config: ActivityConfig) -> list[Segment]:
    if kind == "song":
        return song_segments(stems, config)
    speech = stems["speech"]
    return frames_to_segments(stem_activity(speech, config), hop_s=config.hop_s, label="speech",
                              duration_s=speech.duration_s)


def example_id(kind: str, index: int) -> str:
    return f"{kind}-{index:06d}"


def build_example(kind: str, index: int, *, seed: int, out_dir: Path,
                  config: FactoryConfig) -> Example:
    """Make example ``index`` and write it to ``out_dir/<id>/`` atomically."""
    rng = np.random.default_rng([seed, KINDS.index(kind), index])
    stems, meta = MAKERS[kind](rng, config)
    mixture = sum(s.samples for s in stems.values())
    peak = float(np.abs(mixture).max())
    gain = 10 ** (rng.uniform(*config.peak_dbfs) / 20) / peak if peak > 0 else 1.0
    stems = {k: Waveform(v.samples * gain, v.sample_rate) for k, v in stems.items()}
    ex_id = example_id(kind, index)
    final, part = out_dir / ex_id, out_dir / f".{ex_id}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    paths = {name: str(final / f"{name}.flac") for name in ["mixture", *stems]}
    audio.save(part / "mixture.flac", Waveform(mixture * gain, config.sample_rate),
               subtype="PCM_24")
    for name, wav in stems.items():
        audio.save(part / f"{name}.flac", wav, subtype="PCM_24")
    example = Example(id=ex_id, audio=paths["mixture"],
                      stems={k: paths[k] for k in stems},
                      regions=tuple(labels_for(kind, stems, config.activity)),
                      duration_s=config.example_s, sample_rate=config.sample_rate,
                      group=ex_id, source=f"synth-{kind}",
                      meta={"seed": seed, "index": index, **meta})
    (part / EXAMPLE_FILE).write_text(json.dumps(example.to_dict(relative_to=final)))
    os.replace(part, final)
    return example


@dataclass(frozen=True)
class FactoryReport:
    manifest: Path
    n_examples: int
    n_made: int
    hours: float
    wall_s: float
    cpu_s: float


def synthesize(kind: str, *, hours: float, out_dir: str | os.PathLike[str], jobs: int = 1,
               seed: int = 0, config: FactoryConfig | None = None,
               on_progress: Callable[[int], None] | None = None) -> FactoryReport:
    """Make ``hours`` of ``kind`` examples in ``out_dir``, resuming a previous run.

    Args:
        kind: ``"song"`` or ``"speech-mix"``.
        hours: total audio to make (rounded up to whole examples).
        out_dir: created if missing; examples already complete there are kept.
        jobs: worker processes.
        seed: the whole set is a function of (kind, seed, config).
        config: see :class:`FactoryConfig`.
        on_progress: called with the number of examples finished, after each one.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    config = config or FactoryConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_examples = max(1, math.ceil(hours * 3600 / config.example_s))
    todo = [i for i in range(n_examples)
            if not (out / example_id(kind, i) / EXAMPLE_FILE).exists()]
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    for done, _ in enumerate(_run(kind, todo, seed=seed, out=out, config=config, jobs=jobs), 1):
        if on_progress is not None:
            on_progress(done)
    examples = [Example.from_dict(json.loads((out / example_id(kind, i) / EXAMPLE_FILE)
                                             .read_text()), relative_to=out / example_id(kind, i))
                for i in range(n_examples)]
    manifest = write_manifest(out / MANIFEST_NAME, examples)
    return FactoryReport(manifest, n_examples, len(todo), n_examples * config.example_s / 3600,
                         time.perf_counter() - start_wall, cpu_seconds() - start_cpu)


def _run(kind: str, todo: list[int], *, seed: int, out: Path, config: FactoryConfig,
         jobs: int) -> Iterator[int]:
    tasks = [(kind, i, seed, out, config) for i in todo]
    if jobs <= 1:
        yield from map(_build_task, tasks)
        return
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        yield from pool.imap_unordered(_build_task, tasks)


def _build_task(task: tuple[str, int, int, Path, FactoryConfig]) -> int:
    kind, index, seed, out, config = task
    build_example(kind, index, seed=seed, out_dir=out, config=config)
    return index


def cpu_seconds() -> float:
    """CPU time of this process and its finished children."""
    usage = os.times()
    return usage.user + usage.system + usage.children_user + usage.children_system
