"""Real recordings beside the synthetic ones: speech, instrumentals, sung vocals.

The factory draws from these pools with a probability when the user names folders:
real speech (LibriSpeech-style or any speaker folders), vocal-free instrumentals
(e.g. the Debian game soundtracks), and isolated singing (MIR-1K-style stems).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from cantata.data.records import Example
from cantata.data.sources import load_instrumentals, load_mir1k, load_speech_folder, read_stem
from cantata.data.sources.stems import duration_s as example_duration_s
from cantata.errors import ConfigError
from cantata.types import Waveform

LOADERS = {"speech": load_speech_folder, "vocals": load_mir1k}
JOIN_FADE_S = 0.5
STEM = {"speech": "speech", "instrumentals": "accompaniment", "vocals": "vocals"}


@lru_cache(maxsize=8)
def pool(kind: str, roots: tuple[str, ...]) -> tuple[Example, ...]:
    """Every example under ``roots`` for ``kind`` (loaded once per process)."""
    examples = [ex for root in roots for ex in _load(kind, root)]
    if not examples:
        raise ConfigError(f"no real {kind} found under {', '.join(roots)}")
    return tuple(examples)


def draw(kind: str, roots: tuple[str, ...], rng: np.random.Generator, *, sample_rate: int,
         max_duration_s: float) -> tuple[Waveform, dict[str, Any]]:
    """A random stretch (up to ``max_duration_s``) of a random real recording, mono.

    Returns:
        The audio (1, time) at ``sample_rate`` and provenance (file, offset, group).
    """
    examples = pool(kind, roots)
    example = examples[rng.integers(len(examples))]
    length_s = example_duration_s(example)
    take_s = min(length_s, max_duration_s)
    offset_s = float(rng.uniform(0.0, length_s - take_s)) if length_s > take_s else 0.0
    wav = _read(example, kind, offset_s=offset_s, duration_s=take_s, sample_rate=sample_rate)
    meta = {"real": kind, "file": example.audio or example.stems.get(STEM[kind]),
            "group": example.group, "offset_s": round(offset_s, 3)}
    return wav.to_mono(), meta


def fill(kind: str, roots: tuple[str, ...], rng: np.random.Generator, *, sample_rate: int,
         duration_s: float) -> tuple[Waveform, dict[str, Any]]:
    """``duration_s`` of real audio: random stretches joined with short crossfades, mono."""
    n, fade = round(duration_s * sample_rate), round(JOIN_FADE_S * sample_rate)
    out, parts, filled = np.zeros(n, np.float32), [], 0
    while filled < n - fade:
        wav, meta = draw(kind, roots, rng, sample_rate=sample_rate,
                         max_duration_s=(n - filled) / sample_rate + JOIN_FADE_S)
        clip = wav.samples[0, : n - filled].copy()
        ramp = min(fade, len(clip) // 2)
        if filled and ramp:
            clip[:ramp] *= np.linspace(0.0, 1.0, ramp, dtype=np.float32)
            out[filled - ramp:filled] *= np.linspace(1.0, 0.0, ramp, dtype=np.float32)
            filled -= ramp
        out[filled:filled + len(clip)] += clip
        filled += len(clip)
        parts.append(meta)
    return Waveform(out, sample_rate), {"real": kind, "parts": parts}


def _load(kind: str, root: str) -> list[Example]:
    """A root of instrumentals may also be a stem collection: its accompaniment stems count."""
    if kind != "instrumentals":
        return LOADERS[kind](root)
    try:
        return load_mir1k(root)
    except ConfigError:
        return load_instrumentals([root])


def _read(example: Example, kind: str, **kwargs: Any) -> Waveform:
    if kind == "speech":
        from cantata.audio import load

        return load(example.audio, **kwargs)
    return read_stem(example, STEM[kind], **kwargs)
