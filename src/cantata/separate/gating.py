"""Detection-gated separation: skip the network where nobody sings.

The singing detector runs first (it is ~100 times cheaper than the separator). Every
vocal region it finds is widened by ``pad_s`` on both sides; the stretches left between
them that last at least ``min_skip_s`` are *skipped*: there the vocal stem is silence
and the accompaniment is the mixture itself, with ``fade_s`` raised-cosine crossfades
inside each skipped stretch, where it meets separated audio. Everything here is pure
arithmetic on times and sample indices (P4); :mod:`cantata.engine.overlap_add` applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cantata.errors import ConfigError
from cantata.types import Segment

#: Seconds added before and after every detected vocal region: detectors answer in
#: frames of tens of ms and smooth their decisions, so region edges are blurred.
PAD_S = 0.5
#: Shorter vocal-free stretches are separated anyway: skipping them saves little, and a
#: detector's brief gaps inside a sung phrase are more often misses than rests.
MIN_SKIP_S = 4.0
#: Crossfade between separated and bypassed audio, inside each skipped stretch.
FADE_S = 0.1


@dataclass(frozen=True)
class GateConfig:
    """When the detector's silence is trusted enough to skip the separator.

    Attributes:
        pad_s: seconds of margin around each vocal region (>= 0).
        min_skip_s: only vocal-free stretches at least this long are skipped (> 2 fade_s).
        fade_s: crossfade length at the edges of a skipped stretch (>= 0).
        label: the detector label that means singing.
        bypass_stem: the stem that gets the mixture where the network is skipped.
    """

    pad_s: float = PAD_S
    min_skip_s: float = MIN_SKIP_S
    fade_s: float = FADE_S
    label: str = "vocal"
    bypass_stem: str = "accompaniment"

    def __post_init__(self) -> None:
        if self.pad_s < 0 or self.fade_s < 0 or self.min_skip_s <= 2 * self.fade_s:
            raise ConfigError(f"bad GateConfig: need pad_s >= 0, fade_s >= 0 and "
                              f"min_skip_s > 2 * fade_s, got {self}")


def skipped_spans(segments: Sequence[Segment], *, duration_s: float,
                  config: GateConfig | None = None) -> list[tuple[float, float]]:
    """The stretches of ``[0, duration_s]`` with no vocal region near them.

    Args:
        segments: detector output; only those labelled ``config.label`` count.
        duration_s: length of the recording.
        config: padding and minimum length; default :class:`GateConfig`.

    Returns:
        Sorted, disjoint (start_s, end_s) pairs, each at least ``min_skip_s`` long.

    Example:
        >>> skipped_spans([Segment(10.0, 20.0, "vocal")], duration_s=30.0)
        [(0.0, 9.5), (20.5, 30.0)]
    """
    config = config or GateConfig()
    vocal = sorted((max(0.0, s.start_s - config.pad_s), s.end_s + config.pad_s)
                   for s in segments if s.label == config.label)
    spans, cursor = [], 0.0
    for start, end in [*vocal, (duration_s, duration_s)]:
        if start - cursor >= config.min_skip_s:
            spans.append((cursor, min(start, duration_s)))
        cursor = max(cursor, end)
    return spans


@dataclass(frozen=True)
class SkipPlan:
    """Skipped stretches in samples, as the engine's :class:`~cantata.engine.overlap_add.Gate`.

    Attributes:
        spans: sorted, disjoint (start, stop) sample ranges where the network is skipped.
        fade: crossfade length in samples, inside each span (not at the file's ends).
        bypass_stem: the stem that gets the mixture inside the spans.
        sample_rate: the rate the sample indices count at.
        n_samples: length of the recording; a span reaching it needs no fade at its end.
    """

    spans: tuple[tuple[int, int], ...]
    fade: int
    bypass_stem: str
    sample_rate: int
    n_samples: int

    @classmethod
    def from_segments(cls, segments: Sequence[Segment], *, duration_s: float, sample_rate: int,
                      config: GateConfig | None = None) -> SkipPlan:
        """The plan for a recording from its detected regions (see :func:`skipped_spans`)."""
        config = config or GateConfig()
        spans = skipped_spans(segments, duration_s=duration_s, config=config)
        samples = tuple((round(a * sample_rate), round(b * sample_rate)) for a, b in spans)
        return cls(samples, round(config.fade_s * sample_rate), config.bypass_stem, sample_rate,
                   round(duration_s * sample_rate))

    @property
    def skipped_s(self) -> float:
        """Seconds where the output is the bypass (fades counted in full)."""
        return sum(b - a for a, b in self.spans) / self.sample_rate

    def weights(self, start: int, stop: int) -> np.ndarray:
        """Weight of the network's output for samples ``[start, stop)``; (stop-start,) float32.

        0 inside a skipped span, 1 outside, raised-cosine ramps of ``fade`` samples at
        each inner edge of a span (none at sample 0 or at the end of the recording).
        """
        weight = np.ones(stop - start, np.float32)
        t = np.arange(start, stop)
        for a, b in self.spans:
            if b <= start or a >= stop:
                continue
            if b >= self.n_samples:  # the last span runs to the end, however long it is
                b = max(b, stop)
            inside = (t >= a) & (t < b)
            ti = t[inside]
            w = np.zeros(len(ti), np.float64)
            if self.fade and a > 0:  # fade out the network over [a, a + fade)
                w = np.maximum(w, _ramp((a + self.fade - ti) / self.fade))
            if self.fade and b < self.n_samples:  # fade it back in over [b - fade, b)
                w = np.maximum(w, _ramp((ti - (b - self.fade) + 1) / self.fade))
            weight[inside] = w
        return weight


def _ramp(x: np.ndarray) -> np.ndarray:
    """Raised cosine from 0 (x <= 0) to 1 (x >= 1)."""
    return np.sin(0.5 * np.pi * np.clip(x, 0.0, 1.0)) ** 2
