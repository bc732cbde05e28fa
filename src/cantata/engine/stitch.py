"""Running a frame-wise network over long recordings in stitched windows (P1).

The windows of a :class:`~cantata.engine.windows.StitchPlan` run in batches (windows of
one length share a forward pass, :mod:`.batching`), and the kept middle of each window's
output is joined end to end. For one stream, windows are cut and run a batch at a time as
the blocks arrive (bounded memory); for many recordings held in memory, the windows of
all of them are batched together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from cantata.engine.batching import iter_batches, run_batches
from cantata.engine.progress import Progress
from cantata.engine.windows import StitchPlan, StitchWindow
from cantata.errors import ShapeError

#: The network on a batch of equal-length windows: (batch, ..., time) float32 ->
#: (batch, *out_dims, frames), frame i of a window centred on its sample ``i * hop``.
FrameFn = Callable[[np.ndarray], np.ndarray]


def stitch(plan: StitchPlan, blocks: Iterable[np.ndarray], run: FrameFn, *,
           batch_size: int, out_dims: tuple[int, ...],
           on_progress: Progress | None = None) -> tuple[np.ndarray, int]:
    """The network's frames over a whole stream, in stitched windows.

    Args:
        plan: the windows.
        blocks: the recording in consecutive pieces, each (..., time).
        run: the network on a batch of windows (see :data:`FrameFn`).
        batch_size: windows per forward pass (windows of one length share one).
        out_dims: the output's shape without batch and frames, e.g. ``(n_labels,)``: the
            shape of an empty recording's output.
        on_progress: called with the seconds finished after each window.

    Returns:
        (frames, n_samples): float32 (*out_dims, n_frames) with
        ``n_frames = plan.n_frames(n_samples)``, and the stream's length in samples.
    """
    parts: list[np.ndarray] = []
    finished = 0  # samples
    for window, kept in iter_batches(plan.windows(blocks), lambda ws: _kept(run, ws),
                                     key=_length, batch_size=batch_size):
        parts.append(kept)
        end = window.first * plan.hop + window.audio.shape[-1] if window.last else \
            (window.kept + window.count) * plan.hop
        if on_progress is not None and end > finished:
            on_progress((end - finished) / plan.sample_rate)
        finished = max(finished, end)
    return _join(parts, out_dims, plan.n_frames(finished)), finished


def stitch_many(plan: StitchPlan, recordings: Sequence[np.ndarray], run: FrameFn, *,
                batch_size: int, out_dims: tuple[int, ...]) -> list[np.ndarray]:
    """:func:`stitch` on several recordings, their windows batched together.

    Args:
        plan, run, out_dims: as :func:`stitch`.
        recordings: each (..., time), held in memory.
        batch_size: windows per forward pass, across recordings.

    Returns:
        float32 (*out_dims, plan.n_frames(time)) per recording, in order.
    """
    windows = [list(plan.windows([x])) for x in recordings]
    flat = [w for ws in windows for w in ws]
    kept = iter(run_batches(flat, lambda ws: _kept(run, ws), key=_length,
                            batch_size=batch_size))
    return [_join([next(kept) for _ in ws], out_dims, plan.n_frames(x.shape[-1]))
            for x, ws in zip(recordings, windows, strict=True)]


def _length(window: StitchWindow) -> int:
    return window.audio.shape[-1]


def _kept(run: FrameFn, windows: list[StitchWindow]) -> list[np.ndarray]:
    """Each window's kept frames, from one forward pass of the stacked windows."""
    out = run(np.stack([w.audio for w in windows]))
    if len(out) != len(windows):
        raise ShapeError(f"a batch of {len(windows)} windows gave output {out.shape}")
    return [out[i][..., w.offset: w.offset + w.count] for i, w in enumerate(windows)]


def _join(parts: list[np.ndarray], out_dims: tuple[int, ...], n_frames: int) -> np.ndarray:
    if not parts:
        return np.zeros((*out_dims, 0), np.float32)
    return np.concatenate(parts, axis=-1)[..., :n_frames]
