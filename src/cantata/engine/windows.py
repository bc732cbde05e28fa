"""Window plans: where a long recording is cut for a network that sees a fixed stretch.

Two plans, both pure index arithmetic on arrays (no network):

- :class:`StitchPlan`, for frame-wise networks (detection, and the defect detectors
  to come): windows of one length with context on both sides, whose middle frames are
  kept and joined end to end, so every frame comes from a window that saw context
  around it (:mod:`.stitch` runs them).
- :func:`segment_starts`, for networks that give one vector per window (embedding,
  tagging): windows of one length every hop.

Overlap-add (separation, restoration) has its own plan in :mod:`.overlap_add`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from cantata.errors import ConfigError


class StitchWindow(NamedTuple):
    """One window of a :class:`StitchPlan`.

    Attributes:
        kept: the first frame of the recording kept from this window's output.
        count: frames kept, ``[kept, kept + count)``.
        first: the frame at the window's first sample (sample ``first * hop``).
        audio: the window's samples, shape (..., time).
        last: whether it is the recording's last window (it ends where the recording does).
    """

    kept: int
    count: int
    first: int
    audio: np.ndarray
    last: bool

    @property
    def offset(self) -> int:
        """Where the kept frames start in the window's own output."""
        return self.kept - self.first


@dataclass(frozen=True)
class StitchPlan:
    """Fixed-length windows with context on both sides; their middle frames are kept.

    The network puts out frame i centred on sample ``i * hop``, so ``n`` samples give
    ``1 + n // hop`` frames. Every window spans ``(keep + 2 * context) * hop`` samples and
    keeps its middle ``keep`` frames (the first window keeps its start too, the last its
    end), so all windows but the last have one length and can share a forward pass. A
    recording no longer than one window is one window, whole.

    Attributes:
        hop: samples per output frame (>= 1).
        keep: frames kept per window (>= 1).
        context: frames of context on each side of the kept ones (>= 0).
        sample_rate: samples per second (for progress in seconds).
    """

    hop: int
    keep: int
    context: int
    sample_rate: int

    def __post_init__(self) -> None:
        if self.hop < 1 or self.keep < 1 or self.context < 0 or self.sample_rate < 1:
            raise ConfigError(f"bad StitchPlan: {self}")

    @classmethod
    def from_seconds(cls, *, sample_rate: int, hop: int, keep_s: float,
                     context_s: float) -> StitchPlan:
        """The plan that keeps about ``keep_s`` per window with ``context_s`` each side."""
        return cls(hop=hop, keep=round(keep_s * sample_rate / hop),
                   context=round(context_s * sample_rate / hop), sample_rate=sample_rate)

    @property
    def span(self) -> int:
        """Samples per full window."""
        return (self.keep + 2 * self.context) * self.hop

    def n_frames(self, n_samples: int) -> int:
        """Frames the network puts out for ``n_samples`` (0 for none)."""
        return 1 + n_samples // self.hop if n_samples else 0

    def windows(self, blocks: Iterable[np.ndarray]) -> Iterator[StitchWindow]:
        """Cut a stream of blocks (each (..., time), any lengths) into windows, in order.

        Memory holds about one window of input, whatever the stream's length; the kept
        frames of the windows cover ``[0, n_frames)`` exactly once, in order.
        """
        hop, ctx, span = self.hop, self.context, self.span
        buf: np.ndarray | None = None
        buf_start, done, n_total = 0, 0, 0  # buf_start: sample; done: frames planned
        for block in blocks:
            block = block.astype(np.float32)
            buf = block if buf is None else np.concatenate([buf, block], axis=-1)
            n_total += block.shape[-1]
            while max(0, done - ctx) * hop + span <= n_total:
                first = max(0, done - ctx)
                at = first * hop - buf_start
                yield StitchWindow(done, self.keep, first, buf[..., at: at + span].copy(), False)
                done += self.keep
            keep_from = min(max(0, done - ctx) * hop, max(0, n_total - span))
            buf, buf_start = buf[..., keep_from - buf_start:], keep_from
        n_frames = self.n_frames(n_total)
        if buf is None or not n_frames:
            return
        if done == 0:  # short: the whole stream in one window
            yield StitchWindow(0, n_frames, 0, buf, True)
        else:  # the last window ends at the end
            first = -(-(n_total - span) // hop)
            yield StitchWindow(done, n_frames - done, first, buf[..., first * hop - buf_start:],
                               True)


def segment_starts(n: int, *, length: int, hop: int) -> list[int]:
    """Starts of ``length``-long windows every ``hop`` over ``n`` steps (samples or frames).

    The windows start at 0, hop, 2 hop, ... while they fit; an end left uncovered by more
    than half a hop gets one more window, ending at the end. A recording shorter than one
    window is one (short) window at 0.

    Example:
        >>> segment_starts(10, length=4, hop=3)
        [0, 3, 6]
        >>> segment_starts(12, length=4, hop=3)
        [0, 3, 6, 8]
    """
    if length < 1 or hop < 1:
        raise ConfigError(f"need length >= 1 and hop >= 1, got {length}, {hop}")
    starts = list(range(0, max(1, n - length + 1), hop))
    if n - (starts[-1] + length) > hop // 2:  # cover an end longer than half a hop
        starts.append(n - length)
    return starts
