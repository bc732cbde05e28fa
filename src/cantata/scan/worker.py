"""What a scan worker does with one file: hash, decode once, measure, run the analyzers."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cantata import audio
from cantata.analyzers import Analyzer, AnalyzerSpec, TrackAudio, build
from cantata.audio.stats import measure
from cantata.catalog import Result, TrackFacts
from cantata.errors import CantataError
from cantata.scan.plan import Job
from cantata.types import Waveform

log = logging.getLogger(__name__)

#: files up to this long are decoded once and held for every analyzer; longer ones stream
MAX_IN_MEMORY_S = 20 * 60.0
DECODE_BLOCK_S = 30.0


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one job.

    Attributes:
        job: the job done.
        facts: the file's facts (``facts.error`` set when it failed).
        results: the new results.
        unchanged: the content was as scanned and nothing was missing: only the stat moved.
        seconds: where the time went, e.g. ``{"hash": .., "decode": .., "detect": ..}``.
        warnings: what the scan should warn about (e.g. a truncated file), one line each.
    """

    job: Job
    facts: TrackFacts
    results: tuple[Result, ...] = ()
    unchanged: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def file_hash(path: str | Path, *, block: int = 1 << 20) -> str:
    """BLAKE2b-128 of a file's bytes, hex."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


class Worker:
    """Analyzers loaded once; :meth:`run` does one job and never raises for a bad file."""

    def __init__(self, specs: Sequence[AnalyzerSpec], *, files_dir: str | Path | None,
                 threads: int | None = None) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.analyzers: dict[str, Analyzer] = {
            s.name: build(s, files_dir=files_dir) for s in specs}

    def run(self, job: Job) -> Outcome:
        seconds: dict[str, float] = {}
        stat = job.stat
        base = TrackFacts(stat.path, "", stat.size_bytes, stat.mtime_ns)
        try:
            with _timed(seconds, "hash"):
                content_hash = file_hash(stat.path)
        except OSError as err:
            return Outcome(job, _failed(base, f"cannot read: {err.strerror or err}"),
                           seconds=seconds)
        base = TrackFacts(stat.path, content_hash, stat.size_bytes, stat.mtime_ns)
        same = content_hash == job.known_hash
        needed = job.needed if same else tuple(self.analyzers)
        if same and not needed:
            return Outcome(job, base, unchanged=True, seconds=seconds)
        try:
            with _timed(seconds, "decode"):
                facts, wav, warnings = _decode(base)
        except CantataError as err:
            return Outcome(job, _failed(base, str(err)), seconds=seconds)
        item = TrackAudio(stat.path, content_hash, wav)
        results = []
        for name in needed:
            try:
                with _timed(seconds, name):
                    results += self.analyzers[name].analyze([item])
            except CantataError as err:
                return Outcome(job, _failed(facts, f"{name}: {err}"), seconds=seconds)
            except Exception as err:  # a bug must not end a catalog-wide scan
                log.exception("%s: %s analyzer crashed", stat.path, name)
                return Outcome(job, _failed(facts, f"{name}: {type(err).__name__}: {err}"),
                               seconds=seconds)
        return Outcome(job, facts, tuple(results), seconds=seconds, warnings=warnings)


def _decode(base: TrackFacts) -> tuple[TrackFacts, Waveform | None, tuple[str, ...]]:
    """Decode the file once: its facts and loudness, the audio when short enough, and
    what to warn about."""
    keep = audio.info(base.path).duration_s <= MAX_IN_MEMORY_S
    blocks: list[Waveform] = []
    stats = measure(base.path, block_s=DECODE_BLOCK_S, on_block=blocks.append if keep else None)
    info = stats.info
    if info.duration_s == 0:
        raise CantataError(f"{base.path}: no audio samples")
    wav = Waveform(np.concatenate([b.samples for b in blocks], axis=1), info.sample_rate) \
        if keep else None
    facts = TrackFacts(
        base.path, base.content_hash, base.size_bytes, base.mtime_ns,
        duration_s=info.duration_s, sample_rate=info.sample_rate, channels=info.n_channels,
        codec=info.codec, container=info.container,
        loudness_lufs=_finite(stats.loudness_lufs), peak_dbfs=_finite(stats.peak_dbfs),
        truncated=stats.truncated)
    return facts, wav, tuple(filter(None, [stats.truncation_warning()]))


def _failed(facts: TrackFacts, error: str) -> TrackFacts:
    """The facts with the reason it failed (without the path, which the record has)."""
    error = error.replace(f"{facts.path}: ", "", 1) if error.startswith(facts.path) else error
    return TrackFacts(**{**facts.__dict__, "error": error or "failed"})


def _finite(x: float) -> float | None:
    return round(float(x), 3) if math.isfinite(x) else None


@contextmanager
def _timed(seconds: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - start
