"""Instrumental accompaniments, and the vocal melody that fits each, for synthetic songs.

:func:`compose` writes an :class:`Arrangement` from one of two sources: a chorale or
folk tune of the melody bank (music21's corpus, re-timed, re-keyed, re-orchestrated) or
a generated song (a style's chord progression, comping, bass line, drums and tune).
:func:`render` plays it with FluidSynth and a General MIDI soundfont and adds random
effects (pedalboard). The melody is not rendered: a singing synthesizer sings it.

Example::

    rng = np.random.default_rng(0)
    backing, arrangement = random_accompaniment(rng, duration_s=30.0, sample_rate=22050)
    # backing: Waveform (2, 661500); arrangement.melody: the notes to sing
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from cantata.data.synth.arrangement import Arrangement, Track, finish
from cantata.data.synth.bank_songs import bank_sketch
from cantata.data.synth.effects import apply_effects, peak_normalise
from cantata.data.synth.render import DEFAULT_SOUNDFONT, render_dry
from cantata.data.synth.songwriter import STYLES, generated_sketch
from cantata.errors import ConfigError
from cantata.types import Waveform

__all__ = ["DEFAULT_SOUNDFONT", "SOURCES", "Arrangement", "Track", "compose", "render",
           "random_accompaniment"]

log = logging.getLogger(__name__)

#: ``style`` values of :func:`compose`: ``"bank"`` or a generated style
SOURCES = ("bank", *sorted(STYLES))
P_BANK = 0.5
DRY_PEAK_DBFS = -3.0


def compose(rng: np.random.Generator, *, duration_s: float,
            style: str | None = None) -> Arrangement:
    """A random arrangement and vocal melody, ``duration_s`` long.

    Args:
        rng: the only source of randomness (same seed, same arrangement).
        duration_s: length in seconds (> 0).
        style: ``"bank"`` for a melody-bank piece, a generated style (``"pop"``,
            ``"rock"``, ``"ballad"``, ``"waltz"``, ``"latin"``, ``"blues"``, ``"jazz"``,
            ``"folk"``), or None for either source at random.

    Raises:
        ConfigError: a non-positive duration or an unknown style.
    """
    if not duration_s > 0:
        raise ConfigError(f"duration_s must be positive, got {duration_s}")
    if style is not None and style not in SOURCES:
        raise ConfigError(f"unknown accompaniment style {style!r}; choose from {SOURCES}")
    if style == "bank" or (style is None and rng.random() < P_BANK):
        sketch = bank_sketch(rng, duration_s=duration_s)
    else:
        sketch = generated_sketch(rng, duration_s=duration_s, style=style)
    arrangement = finish(sketch, duration_s=duration_s, rng=rng)
    log.debug("composed %s", arrangement.meta)
    return arrangement


def _render(arrangement: Arrangement, *, sample_rate: int, rng: np.random.Generator | None,
            soundfont: str | Path | None) -> tuple[Waveform, dict[str, Any]]:
    dry = render_dry(arrangement, sample_rate=sample_rate, soundfont=soundfont)
    if rng is None:
        return Waveform(peak_normalise(dry.samples, DRY_PEAK_DBFS), sample_rate), {}
    return apply_effects(dry, rng)


def render(arrangement: Arrangement, *, sample_rate: int = 22050,
           rng: np.random.Generator | None = None,
           soundfont: str | Path | None = None) -> Waveform:
    """Play an arrangement's tracks (not its melody) and add effects.

    Args:
        arrangement: from :func:`compose`.
        sample_rate: of the result, Hz.
        rng: draws the effects (reverb, EQ, compression, limiter) and the peak level
            (-12..-1 dBFS); None renders dry, peak-normalised to -3 dBFS.
        soundfont: a General MIDI .sf2; None is :data:`DEFAULT_SOUNDFONT`.

    Returns:
        Stereo audio, shape (2, round(duration_s * sample_rate)).

    Raises:
        CantataError: fluidsynth or the soundfont is missing, or fluidsynth failed.
    """
    return _render(arrangement, sample_rate=sample_rate, rng=rng, soundfont=soundfont)[0]


def random_accompaniment(rng: np.random.Generator, *, duration_s: float,
                         sample_rate: int = 22050,
                         soundfont: str | Path | None = None) -> tuple[Waveform, Arrangement]:
    """Compose and render with effects: (audio (2, time), its arrangement).

    The arrangement's ``meta["effects"]`` records the effect chain and peak level.
    """
    arrangement = compose(rng, duration_s=duration_s)
    wav, effects = _render(arrangement, sample_rate=sample_rate, rng=rng, soundfont=soundfont)
    return wav, dataclasses.replace(arrangement, meta={**arrangement.meta, "effects": effects})
