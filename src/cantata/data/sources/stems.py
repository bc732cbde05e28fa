"""Vocals and accompaniment of any :class:`Example` of this package, whatever its layout.

Training code calls :func:`read_stems` (or :func:`read_stem` for one of them) and never
needs to know how a collection stores its stems. An Example says where a stem lives in
one of these ways, tried in this order:

1. ``meta["channel_layout"]``, e.g. ``"L=accompaniment,R=vocals"`` (MIR-1K, iKala): the
   stem is one channel of ``Example.audio``.
2. ``stems[name]``: a file of its own (MIR-1K folders, decoded MUSDB18).
3. ``meta["streams"][name]``: an audio stream index of ``Example.audio`` (``.stem.mp4``).
4. ``meta["stem_sums"][name]``: the sum of other stems (MUSDB18's accompaniment is
   drums + bass + other, as in the ``musdb`` package).
5. ``meta["vocal_free"]``: ``Example.audio`` is pure accompaniment (instrumental music);
   its vocals are silence.
"""

from __future__ import annotations

import numpy as np

from cantata.audio import info, load
from cantata.data.labels import ActivityConfig, song_segments
from cantata.data.records import Example
from cantata.errors import ConfigError
from cantata.types import Segment, Waveform

STEM_NAMES = ("vocals", "accompaniment")
DEFAULT_ACTIVITY = ActivityConfig()
CHANNEL_LAYOUT = "channel_layout"
STREAMS = "streams"
STEM_SUMS = "stem_sums"
VOCAL_FREE = "vocal_free"
_CHANNEL_LETTERS = {"L": 0, "R": 1}


def channel_map(example: Example) -> dict[str, int]:
    """Stem name -> channel index from ``meta["channel_layout"]`` ({} when absent)."""
    layout = example.meta.get(CHANNEL_LAYOUT)
    if not layout:
        return {}
    mapping = {}
    for part in str(layout).split(","):
        letter, _, name = part.strip().partition("=")
        if letter not in _CHANNEL_LETTERS or not name:
            raise ConfigError(f"example {example.id!r}: bad channel_layout {layout!r} "
                              "(expected e.g. 'L=accompaniment,R=vocals')")
        mapping[name] = _CHANNEL_LETTERS[letter]
    return mapping


def has_stem(example: Example, name: str) -> bool:
    """Whether :func:`read_stem` can give stem ``name`` of ``example`` (nothing is decoded)."""
    meta = example.meta
    if name in channel_map(example) or name in example.stems or name in meta.get(STREAMS, {}):
        return True
    if name in meta.get(STEM_SUMS, {}):
        return all(has_stem(example, part) for part in meta[STEM_SUMS][name])
    return bool(meta.get(VOCAL_FREE)) and example.audio is not None and name in STEM_NAMES


def read_stem(
    example: Example,
    name: str,
    *,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    sample_rate: int | None = None,
) -> Waveform:
    """Decode one stem of an example (or the part of it from ``offset_s`` on).

    Args:
        example: any Example of this package (see the module docstring for layouts).
        name: ``"vocals"``, ``"accompaniment"``, or any stem the example names.
        offset_s: start this many seconds in.
        duration_s: read at most this many seconds; None reads to the end.
        sample_rate: resample to this rate; None keeps the file's.

    Returns:
        Waveform (channels, time): one channel for a channel-split stem, else the file's.

    Raises:
        ConfigError: the example does not provide stem ``name``.
        AudioLoadError: a file is missing or unreadable.
    """
    kw = {"offset_s": offset_s, "duration_s": duration_s, "sample_rate": sample_rate}
    channels, meta = channel_map(example), example.meta
    if name in channels:
        wav = load(_audio(example), **kw)
        if wav.n_channels <= channels[name]:
            raise ConfigError(f"{example.audio}: has {wav.n_channels} channel(s), "
                              f"but its channel_layout puts {name!r} on channel {channels[name]}")
        return Waveform(wav.samples[[channels[name]]], wav.sample_rate)
    if name in example.stems:
        return load(example.stems[name], **kw)
    if name in meta.get(STREAMS, {}):
        return load(_audio(example), stream_index=int(meta[STREAMS][name]), **kw)
    if name in meta.get(STEM_SUMS, {}):
        return _sum([read_stem(example, part, **kw) for part in meta[STEM_SUMS][name]])
    if meta.get(VOCAL_FREE) and name in STEM_NAMES:
        wav = load(_audio(example), **kw)
        return wav if name == "accompaniment" else Waveform(np.zeros_like(wav.samples),
                                                            wav.sample_rate)
    raise ConfigError(f"example {example.id!r} has no {name!r} stem "
                      f"(stems: {sorted(example.stems)}, audio: {example.audio})")


def read_stems(
    example: Example,
    *,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    sample_rate: int | None = None,
) -> dict[str, Waveform]:
    """``{"vocals": …, "accompaniment": …}`` of any example; arguments as :func:`read_stem`."""
    return {name: read_stem(example, name, offset_s=offset_s, duration_s=duration_s,
                            sample_rate=sample_rate) for name in STEM_NAMES}


def song_regions(example: Example,
                 config: ActivityConfig = DEFAULT_ACTIVITY) -> tuple[Segment, ...]:
    """Vocal / accompaniment / silence regions from the clean stems (decodes the whole song)."""
    return tuple(song_segments(read_stems(example), config))


def duration_s(example: Example) -> float:
    """``example.duration_s``, or the header's length of its audio (or first stem) when 0."""
    if example.duration_s > 0:
        return example.duration_s
    path = example.audio or next(iter(example.stems.values()), None)
    if path is None:
        raise ConfigError(f"example {example.id!r} names no audio file")
    return info(path).duration_s


def _audio(example: Example) -> str:
    if example.audio is None:
        raise ConfigError(f"example {example.id!r} has no audio file")
    return example.audio


def _sum(parts: list[Waveform]) -> Waveform:
    """Sum waveforms of one rate, zero-padding the shorter ones (channels broadcast)."""
    n = max(p.n_samples for p in parts)
    total = sum(np.pad(p.samples, ((0, 0), (0, n - p.n_samples))) for p in parts)
    return Waveform(np.asarray(total, dtype=np.float32), parts[0].sample_rate)
