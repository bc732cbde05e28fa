"""Inference engines: long audio through networks that see a fixed stretch (P1).

The layer between the models (a fixed-size tensor in, a tensor out) and the capability
APIs (files in, typed results out). It imports only :mod:`cantata.audio`,
:mod:`cantata.features`, :mod:`cantata.models`, :mod:`cantata.types` and
:mod:`cantata.errors`, never a capability. Its parts:

- :mod:`.windows`: window plans, pure arithmetic: stitched windows with context
  (:class:`StitchPlan`) and segments every hop (:func:`segment_starts`).
- :mod:`.batching`: the one "group windows by length, then batch" (:func:`run_batches`,
  :func:`iter_batches` for streams), across windows of many files.
- :mod:`.stitch`: a frame-wise network over long audio, the kept middles of windows
  joined (detection; defect detection next).
- :mod:`.overlap_add`: an audio-to-audio network over long audio, windows overlap-added
  with crossfades, streamed, optionally gated (separation; restoration next).
- :mod:`.progress`: the one progress callback shape (:data:`Progress`, seconds finished).

Per-vector networks (embedding; tagging next) cut segments with :func:`segment_starts`
and run them with :func:`run_batches`.
"""

from __future__ import annotations

from cantata.engine.batching import iter_batches, run_batches
from cantata.engine.overlap_add import (
    EngineConfig,
    Gate,
    WindowSeparator,
    active_runs,
    crossfade,
    n_windows,
    separate_array,
    separate_stream,
)
from cantata.engine.progress import Progress
from cantata.engine.stitch import stitch, stitch_many
from cantata.engine.windows import StitchPlan, StitchWindow, segment_starts

__all__ = [
    "EngineConfig", "Gate", "Progress", "StitchPlan", "StitchWindow", "WindowSeparator",
    "active_runs", "crossfade", "iter_batches", "n_windows", "run_batches", "segment_starts",
    "separate_array", "separate_stream", "stitch", "stitch_many",
]
