"""Audio in, audio out, for any length in bounded memory: windows, overlap-add, gating (P1).

A separator network (or, later, a restoration one) sees a fixed stretch of audio. The
engine cuts a stream into overlapping windows, runs the network on each one (full windows
batched, :mod:`.batching`) and overlap-adds the results with complementary crossfades,
so no seam is audible and a 1-hour file never sits whole in memory (neither its input
nor its stems).

Window k covers samples ``[k * hop, k * hop + window)`` with ``hop = window - overlap``.
In each overlap, the first and last ``edge_s`` are taken from one window only (the one
whose middle it is: a network's edge effects stay out of the output), and in between the
earlier window fades out along ``cos²`` while the later one fades in along ``sin²``. The
weights sum to exactly 1, so a separator that acts sample by sample (a gain) passes
through the engine unchanged. The first window does not fade in and the last does not
fade out. The last window is as long as the audio left (so the
network sees no artificial silence at the end), and any window shorter than
``min_window_s`` (a very short file) is zero-padded to that length and trimmed back.

Gating (``gate``) lets a caller mark stretches where the network's output is not wanted;
there the engine skips the network and puts out the mixture as the ``bypass_stem`` and
silence as every other stem, crossfading by the gate's weights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from cantata.engine.batching import run_batches
from cantata.engine.progress import Progress
from cantata.errors import ConfigError, ShapeError

#: Seconds of audio the network sees at once. 30 s keeps a stereo 44.1 kHz window at
#: 10 MB of float32 and its spectrogram work small, while the overlap costs only 13 %.
WINDOW_S = 30.0
#: Seconds shared by consecutive windows. 4 s costs 15 % more network time than none.
OVERLAP_S = 4.0
#: Seconds at each window edge that get no weight: the network's edge effects (STFT
#: padding, resampling filter tails, a U-Net's receptive field cut short) lie within
#: about a second of the edge. The crossfade spans the rest of the overlap (2 s).
EDGE_S = 1.0
#: Windows shorter than this (short files) are zero-padded to it before the network.
MIN_WINDOW_S = 1.0
#: Seconds of real audio given to the network around each gated-on stretch.
GATE_CONTEXT_S = 1.0


@dataclass(frozen=True)
class EngineConfig:
    """How audio is cut into windows for the network.

    Attributes:
        window_s: window length in seconds (>= 2 * overlap_s: at most two windows overlap).
        overlap_s: overlap of consecutive windows in seconds (>= 0).
        edge_s: seconds at each end of an overlap given to one window only
            (0 <= 2 * edge_s <= overlap_s); the crossfade spans the rest.
        batch_size: full windows run through the network together (1 = one at a time).
        min_window_s: shorter windows are zero-padded to this length.
        gate_context_s: with a gate, seconds of audio kept around each stretch the
            network has to see, so that its edge effects fall where its output is unused.
    """

    window_s: float = WINDOW_S
    overlap_s: float = OVERLAP_S
    edge_s: float = EDGE_S
    batch_size: int = 1
    min_window_s: float = MIN_WINDOW_S
    gate_context_s: float = GATE_CONTEXT_S

    def __post_init__(self) -> None:
        if not self.window_s >= 2 * self.overlap_s >= 0 or self.window_s <= 0:
            raise ConfigError(f"need window_s >= 2 * overlap_s >= 0 (at most two windows "
                              f"overlap), got {self.window_s}, {self.overlap_s}")
        if not self.overlap_s >= 2 * self.edge_s >= 0:
            raise ConfigError(f"need overlap_s >= 2 * edge_s >= 0, got {self.overlap_s}, "
                              f"{self.edge_s}")
        if self.batch_size < 1 or self.min_window_s < 0 or self.gate_context_s < 0:
            raise ConfigError(f"bad EngineConfig: {self}")

    def aligned(self, period_s: float) -> EngineConfig:
        """This config with the hop (window - overlap) shortened to a multiple of
        ``period_s`` (no change for 0).

        A spectral network frames its input on a grid (STFT hop times the network's
        downsampling in time); when each window starts on the same grid as the whole
        file, a window sees the frames the whole file would, and the chunked output
        matches separating the file in one piece more closely.
        """
        hop_s = self.window_s - self.overlap_s
        if period_s <= 0 or hop_s < period_s:
            return self
        hop_s = period_s * int(hop_s / period_s + 1e-9)
        return dataclasses.replace(self, window_s=self.overlap_s + hop_s)

    def samples(self, sample_rate: int) -> tuple[int, int, int]:
        """(window, overlap, edge) in samples at ``sample_rate``."""
        window = max(2, round(self.window_s * sample_rate))
        overlap = min(round(self.overlap_s * sample_rate), window // 2)
        edge = min(round(self.edge_s * sample_rate), overlap // 2)
        return window, overlap, edge


@runtime_checkable
class WindowSeparator(Protocol):
    """What the engine needs of a separator (e.g. :class:`~cantata.separate.spectral.
    SpectralSeparator`): stem names and a function on one window.

    ``separate_window(samples, rate)``: shape (channels, time) float32 ->
    (stems, channels, time) float32, same rate and length. A separator may also offer
    ``separate_batch(samples, rate)``: (batch, channels, time) -> (batch, stems, channels,
    time), used for full windows when ``batch_size > 1``.
    """

    stems: tuple[str, ...]

    def separate_window(self, samples: np.ndarray, rate: int) -> np.ndarray: ...


class Gate(Protocol):
    """Where the network's output is wanted (see :class:`~cantata.separate.gating.SkipPlan`).

    ``weights(start, stop)``: per-sample weights for samples ``[start, stop)`` at the
    engine's rate, shape (stop - start,) in [0, 1]: 1 = the network's stems, 0 = the
    bypass (the mixture as ``bypass_stem``, silence as every other stem).
    """

    bypass_stem: str

    def weights(self, start: int, stop: int) -> np.ndarray: ...


def crossfade(n_overlap: int, n_edge: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Complementary weights over an overlap: (fade_in, fade_out), each (n_overlap,).

    ``fade_in`` is 0 over the first ``n_edge`` samples, rises along a raised cosine
    (sampled at sample centres, so never exactly 0 or 1) over the middle, and is 1 over
    the last ``n_edge``; ``fade_out = 1 - fade_in``, so they sum to 1 sample by sample.
    """
    n_fade = n_overlap - 2 * n_edge
    if n_fade < 0:
        raise ConfigError(f"an overlap of {n_overlap} samples has no room for two edges of "
                          f"{n_edge}")
    t = np.clip((np.arange(n_overlap) - n_edge + 0.5) / max(n_fade, 1), 0.0, 1.0)
    fade_in = np.sin(0.5 * np.pi * t) ** 2
    return fade_in, 1.0 - fade_in


def n_windows(n_samples: int, window: int, overlap: int) -> int:
    """How many windows cover ``n_samples``: the fewest K with (K-1)·hop + window >= N."""
    if n_samples <= 0:
        return 0
    hop = window - overlap
    return max(1, -(-(n_samples - overlap) // hop))


def separate_array(
    separator: WindowSeparator,
    samples: np.ndarray,
    *,
    sample_rate: int,
    config: EngineConfig | None = None,
    gate: Gate | None = None,
    on_progress: Progress | None = None,
) -> np.ndarray:
    """Separate a whole array in windows (see the module docstring).

    Args:
        separator: the network wrapper; ``separator.stems`` names the outputs.
        samples: the mixture, shape (channels, time).
        sample_rate: its rate in Hz (the separator resamples as it needs).
        config: windowing; default :class:`EngineConfig`.
        gate: optional per-sample weights of the network's output.
        on_progress: called with the seconds of audio finished after each window.

    Returns:
        float32, shape (stems, channels, time): the stems, sample-aligned with the input.

    Raises:
        ShapeError: ``samples`` is not 2-D.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 2:
        raise ShapeError(f"samples must be (channels, time), got shape {samples.shape}")
    blocks = separate_stream(separator, [samples], sample_rate=sample_rate, config=config,
                             gate=gate, on_progress=on_progress)
    out = list(blocks)
    n_stems, n_channels = len(separator.stems), samples.shape[0]
    return np.concatenate(out, axis=2) if out else np.zeros((n_stems, n_channels, 0),
                                                            np.float32)


def separate_stream(
    separator: WindowSeparator,
    blocks: Iterable[np.ndarray],
    *,
    sample_rate: int,
    config: EngineConfig | None = None,
    gate: Gate | None = None,
    on_progress: Progress | None = None,
) -> Iterator[np.ndarray]:
    """Separate a stream of blocks; yield each stretch of stems as soon as it is final.

    Memory holds about one window (times ``batch_size``) of input and of output, whatever
    the length of the stream; the blocks may have any lengths.

    Args:
        separator: as :func:`separate_array`.
        blocks: the mixture in consecutive pieces, each (channels, time) at ``sample_rate``.
        sample_rate, config, gate, on_progress: as :func:`separate_array`.

    Yields:
        float32 arrays (stems, channels, time) whose concatenation along time is aligned
        with, and exactly as long as, the concatenated input.

    Raises:
        ShapeError: a block is not 2-D, or its channel count changes.
    """
    return _Stream(separator, sample_rate, config or EngineConfig(), gate, on_progress).run(
        blocks)


class _Stream:
    """The state of one :func:`separate_stream` pass: input buffer and output accumulator."""

    def __init__(self, separator: WindowSeparator, sample_rate: int, config: EngineConfig,
                 gate: Gate | None, on_progress: Progress | None) -> None:
        self.separator, self.rate, self.config = separator, sample_rate, config
        self.gate, self.on_progress = gate, on_progress
        self.window, self.overlap, edge = config.samples(sample_rate)
        self.hop = self.window - self.overlap
        self.min_len = max(1, round(config.min_window_s * sample_rate))
        self.fade_in, self.fade_out = crossfade(self.overlap, edge)
        self.n_stems = len(separator.stems)
        self.bypass = None if gate is None else _stem_index(separator.stems, gate.bypass_stem)
        self.buf: np.ndarray | None = None  # input (channels, time) from sample buf_start
        self.buf_start = 0
        self.acc: np.ndarray | None = None  # output (stems, channels, time) from acc_start
        self.acc_start = 0
        self.next_window = 0

    def run(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        n_in, pending = 0, []
        for block in blocks:
            self._append(block)
            n_in += block.shape[1]
            # Window k is surely not the last once the input reaches past its end.
            while n_in > self.next_window * self.hop + self.window:
                pending.append(self._take(self.next_window, self.window))
                self.next_window += 1
                if len(pending) == self.config.batch_size:
                    yield from self._process(pending, last=False)
                    pending = []
            self._drop_consumed()
        total = n_windows(n_in, self.window, self.overlap)
        yield from self._process(pending, last=False)
        for k in range(self.next_window, total):  # only the last one is left
            start = k * self.hop
            yield from self._process([self._take(k, n_in - start)], last=k == total - 1)

    def _append(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.float32)
        if block.ndim != 2:
            raise ShapeError(f"blocks must be (channels, time), got shape {block.shape}")
        if self.buf is None:
            self.buf = block
        elif block.shape[0] != self.buf.shape[0]:
            raise ShapeError(f"block has {block.shape[0]} channels, the stream "
                             f"{self.buf.shape[0]}")
        else:
            self.buf = np.concatenate([self.buf, block], axis=1)

    def _take(self, k: int, length: int) -> tuple[int, np.ndarray]:
        start = k * self.hop - self.buf_start
        return k * self.hop, np.array(self.buf[:, start:start + length])  # a copy

    def _drop_consumed(self) -> None:
        """Forget input before the next window's start."""
        drop = self.next_window * self.hop - self.buf_start
        if drop > 0 and self.buf is not None:
            self.buf, self.buf_start = self.buf[:, drop:].copy(), self.buf_start + drop

    def _process(self, windows: list[tuple[int, np.ndarray]], *,
                 last: bool) -> Iterator[np.ndarray]:
        outputs = self._separate(windows)
        for (start, samples), out in zip(windows, outputs, strict=True):
            n = samples.shape[1]
            weight = np.ones(n, np.float64)
            if start > 0:
                weight[: self.overlap] = self.fade_in
            if not last:
                weight[n - self.overlap:] = self.fade_out
            self._accumulate(start, out * weight.astype(np.float32))
            yield from self._emit(start + n if last else start + self.hop)

    def _separate(self, windows: list[tuple[int, np.ndarray]]) -> list[np.ndarray]:
        if self.gate is not None:
            return [self._gated(start, samples) for start, samples in windows]
        return run_batches([samples for _, samples in windows], self._batch,
                           key=lambda samples: samples.shape[1],
                           batch_size=self.config.batch_size)

    def _batch(self, windows: list[np.ndarray]) -> list[np.ndarray]:
        """Windows of one length: one ``separate_batch`` call where the separator has it."""
        if len(windows) > 1 and hasattr(self.separator, "separate_batch"):
            batch = np.stack(windows)  # (batch, channels, time)
            return list(self.separator.separate_batch(batch, self.rate))  # type: ignore
        return [self._network(samples) for samples in windows]

    def _network(self, samples: np.ndarray) -> np.ndarray:
        n = samples.shape[1]
        if n < self.min_len:
            samples = np.pad(samples, ((0, 0), (0, self.min_len - n)))
        out = np.asarray(self.separator.separate_window(samples, self.rate), np.float32)
        expected = (self.n_stems, samples.shape[0], samples.shape[1])
        if out.shape != expected:
            raise ShapeError(f"separator returned shape {out.shape}, expected {expected}")
        return out[:, :, :n]

    def _gated(self, start: int, samples: np.ndarray) -> np.ndarray:
        """The network where the gate wants it, the bypass elsewhere, mixed by the weights."""
        assert self.gate is not None and self.bypass is not None
        n = samples.shape[1]
        weight = np.clip(np.asarray(self.gate.weights(start, start + n), np.float32), 0, 1)
        if weight.shape != (n,):
            raise ShapeError(f"gate weights have shape {weight.shape}, expected ({n},)")
        out = np.zeros((self.n_stems, *samples.shape), np.float32)
        out[self.bypass] = samples
        context = round(self.config.gate_context_s * self.rate)
        for a, b in active_runs(weight > 0, context=context):
            net = self._network(samples[:, a:b])
            w = weight[a:b]
            out[:, :, a:b] = w * net + (1 - w) * out[:, :, a:b]
        return out

    def _accumulate(self, start: int, out: np.ndarray) -> None:
        if self.acc is None:
            self.acc = np.zeros((out.shape[0], out.shape[1], 0), np.float32)
        stop = start + out.shape[2] - self.acc_start
        if stop > self.acc.shape[2]:
            self.acc = np.pad(self.acc, ((0, 0), (0, 0), (0, stop - self.acc.shape[2])))
        self.acc[:, :, start - self.acc_start: stop] += out

    def _emit(self, final_until: int) -> Iterator[np.ndarray]:
        """Yield the output before sample ``final_until``: no later window reaches it."""
        assert self.acc is not None
        n = final_until - self.acc_start
        if n <= 0:
            return
        ready, self.acc = self.acc[:, :, :n], self.acc[:, :, n:].copy()
        self.acc_start = final_until
        if self.on_progress is not None:
            self.on_progress(n / self.rate)
        yield ready


def active_runs(active: np.ndarray, *, context: int) -> list[tuple[int, int]]:
    """Runs of True in ``active``, each widened by ``context`` samples, merged, clipped.

    Shape: (time,) bool -> list of (start, stop) sample ranges, sorted, non-overlapping.
    """
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    runs: list[tuple[int, int]] = []
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        a, b = max(0, int(a) - context), min(len(active), int(b) + context)
        if runs and a <= runs[-1][1]:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((a, b))
    return runs


def _stem_index(stems: tuple[str, ...], name: str) -> int:
    if name not in stems:
        raise ConfigError(f"gating needs a {name!r} stem; the separator has {list(stems)}")
    return stems.index(name)
