"""A lossy codec's frame grid, found again in decoded audio: the other cue of a transcode.

AAC and Vorbis code music as MDCT coefficients, 1,024 new samples per long frame, and the
encoder quantizes many of the high-frequency coefficients to zero, even at 256-320 kbit/s
where it leaves no low-pass shelf (:mod:`cantata.assess.bandwidth`). Decoding overlaps and
adds the frames; the MDCT of the decoded audio, taken with the codec's window on the
codec's own frame grid, gives those coefficients back exactly (time-domain aliasing
cancellation), zeros included, up to the rounding of the file's samples. On any other grid
the zeros smear into their neighbours. So the share of near-zero coefficients above 4 kHz,
as a function of the grid's offset (0-1023 samples), has one sharp peak in a transcode and
none in a recording that never went through the codec.

The test runs on the first channel (AAC's mid/side coding and Vorbis' coupling leave each
channel on the same grid), at the loudest of a few spots of the recording (see
:func:`find_grid`); its verdict is the peak's height over the offsets' median, in robust
deviations (``z``), and over the median (``excess``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.fft

#: new samples per long frame (AAC-LC and Vorbis' long blocks)
HOP = 1024
#: coefficients under this are "zero": ~3.5 deviations of 16-bit rounding noise's MDCT
#: (8.8e-6 x sqrt(sum w^2) for an unnormalised transform of a 2048-sample window)
ZERO = 1e-3
LOW_HZ = 4000.0
#: frames per offset at one spot, the spots tried for the likely grids, and the frames
#: per offset of the search of every offset
FRAMES = 16
N_SPOTS = 4
FULL_FRAMES = 2
#: the likely grids' offsets are multiples of this; this many other offsets give the
#: typical share
LIKELY_STEP = 64
N_TYPICAL = 48
#: the verdict (tuned on the training part of bench/assess_transcode.py, docs/assess.md)
MIN_Z = 16.0
MIN_EXCESS = 0.005


@dataclass(frozen=True)
class Grid:
    """The best codec frame grid found.

    Attributes:
        codec: ``"aac"`` or ``"vorbis"``: whose window showed the sharpest peak.
        offset: the grid's offset in samples from the start of the recording (mod 1024).
        zero_share: the share of near-zero coefficients above 4 kHz on that grid.
        typical_share: the median share over all offsets.
        z: the peak over the median in robust deviations of the offsets' shares.
    """

    codec: str
    offset: int
    zero_share: float
    typical_share: float
    z: float

    @property
    def excess(self) -> float:
        return self.zero_share - self.typical_share

    @property
    def found(self) -> bool:
        """Whether the peak says the audio went through the codec."""
        return self.z >= MIN_Z and self.excess >= MIN_EXCESS


@cache
def windows() -> dict[str, tuple[np.ndarray, ...]]:
    """Each codec's long-frame windows (2048 samples): AAC's Kaiser-Bessel-derived
    (alpha 4) and sine windows, Vorbis' power-sine window."""
    n = np.arange(2 * HOP)
    sine = np.sin(np.pi * (n + 0.5) / (2 * HOP))
    kaiser = np.kaiser(HOP + 1, np.pi * 4.0)
    half = np.sqrt(np.cumsum(kaiser[:HOP]) / kaiser.sum())
    kbd = np.concatenate([half, half[::-1]])
    vorbis = np.sin(np.pi / 2 * sine ** 2)
    return {"aac": (kbd, sine), "vorbis": (vorbis,)}


def mdct(frames: np.ndarray, window: np.ndarray, bins: slice = slice(0, HOP)) -> np.ndarray:
    """The MDCT of ``frames`` (n, 2 * HOP) under ``window``: (n, HOP) coefficients (those
    of ``bins``), unnormalised (``X[k] = sum_n w[n] x[n] cos(pi / HOP (n + 1/2 + HOP/2)
    (k + 1/2))``), in single precision (an exact zero stays within 1e-5 of zero, far under
    :data:`ZERO`): the windowed frame folded to HOP samples, then a DCT-IV (a third of the
    work of the 2 * HOP-point complex FFT it replaced, the same coefficients to 1e-6)."""
    x = frames * window.astype(np.float32)
    a, b, c, d = (x[:, i * HOP // 2:(i + 1) * HOP // 2] for i in range(4))
    folded = np.concatenate([-c[:, ::-1] - d, a - b[:, ::-1]], axis=1)
    return 0.5 * scipy.fft.dct(folded, type=4, axis=1)[:, bins]


def zero_shares(x: np.ndarray, start: int, window: np.ndarray, sample_rate: int,
                offsets: np.ndarray, frames: int) -> np.ndarray:
    """Per grid offset of ``offsets``: the share of coefficients above :data:`LOW_HZ`
    under :data:`ZERO` in ``frames`` frames from ``start + offset`` of the 1-D ``x``."""
    bins = slice(int(LOW_HZ / (sample_rate / 2) * HOP), HOP)
    if len(offsets) == HOP and np.array_equal(offsets, np.arange(HOP)):
        # every offset: the frames from start, start + 1, ... (a view, no copy)
        segments = np.lib.stride_tricks.sliding_window_view(
            x[start:start + (frames + 2) * HOP - 1], 2 * HOP)
        zero = np.abs(mdct(segments, window, bins)) < ZERO  # row f * HOP + offset
        return zero.reshape(frames, HOP, -1).mean(axis=(0, 2))
    starts = (start + offsets[:, None] + HOP * np.arange(frames)[None]).ravel()
    segments = x[starts[:, None] + np.arange(2 * HOP)]
    zero = np.abs(mdct(segments, window, bins)) < ZERO
    return zero.reshape(len(offsets), -1).mean(axis=1)


def find_grid(samples: np.ndarray, sample_rate: int) -> Grid | None:
    """The sharpest codec frame grid in ``samples`` (channels, time), or None when the
    recording is too short or too low-rate (nothing above 4 kHz) to tell.

    First the likely grids: offsets in steps of :data:`LIKELY_STEP` (where decoders that
    trim the codec's priming, and Vorbis' block switching, leave them), ``FRAMES`` frames
    at each of the :data:`N_SPOTS` loudest spots pooled, against :data:`N_TYPICAL` other
    offsets; then, unless one is found, every offset at the loudest spot (an edited file
    may start anywhere).
    """
    x = np.asarray(np.atleast_2d(samples)[0], np.float32)
    span = HOP * (FRAMES + 1) + HOP
    if len(x) < span or sample_rate / 2 <= 2 * LOW_HZ:
        return None
    spots = _spots(x, span)
    rng = np.random.default_rng(0)
    likely = np.arange(0, HOP, LIKELY_STEP)  # from the start of the recording
    others = rng.choice(np.setdiff1d(np.arange(HOP), likely), N_TYPICAL, replace=False)
    grids = np.concatenate([likely, others])
    best: Grid | None = None
    for codec, window in _windows():  # every window: the sharpest names the codec
        per_spot = [zero_shares(x, start, window, sample_rate, (grids - start) % HOP, FRAMES)
                    for start in spots]
        for shares in per_spot:  # Vorbis' block switching can move its grid
            best = _better(best, _peak(codec, shares, grids, 0,
                                       _resolution(sample_rate, FRAMES)))
        # AAC keeps one grid through the whole recording: the spots' evidence adds up
        best = _better(best, _peak(codec, np.mean(per_spot, axis=0), grids, 0,
                                   _resolution(sample_rate, FRAMES * len(spots))))
    if best is not None and best.found:
        return best
    every = np.arange(HOP)
    for codec, window in _windows():
        shares = zero_shares(x, spots[0], window, sample_rate, every, FULL_FRAMES)
        best = _better(best, _peak(codec, shares, every, spots[0],
                                   _resolution(sample_rate, FULL_FRAMES)))
    return best


def _windows() -> list[tuple[str, np.ndarray]]:
    return [(codec, w) for codec, ws in windows().items() for w in ws]


def _better(a: Grid | None, b: Grid) -> Grid:
    return b if a is None or b.z > a.z else a


def _peak(codec: str, shares: np.ndarray, offsets: np.ndarray, start: int,
          resolution: float) -> Grid:
    """The highest share of ``shares`` (one per offset of ``offsets``, from ``start``),
    scored against the others; ``resolution``: the smallest step of a share (the
    deviation's floor)."""
    top = int(np.argmax(shares))
    median = float(np.median(shares))
    spread = 1.4826 * float(np.median(np.abs(shares - median)))
    z = (float(shares[top]) - median) / max(spread, resolution)
    return Grid(codec, int((start + offsets[top]) % HOP), float(shares[top]), median,
                round(z, 2))
def _resolution(sample_rate: int, frames: int) -> float:
    """One coefficient's share of those a :func:`zero_shares` value counts."""
    return 1.0 / (frames * (HOP - int(LOW_HZ / (sample_rate / 2) * HOP)))


def _spots(x: np.ndarray, span: int) -> list[int]:
    """The :data:`N_SPOTS` starts, of eight spread over the recording, where its
    high-passed signal (the first difference) is loudest."""
    last = len(x) - span
    starts = np.unique(np.linspace(0, last, 8).astype(np.int64))
    d = np.diff(x)
    energy = [float(np.square(d[s:s + span - 1]).sum()) for s in starts]
    order = np.argsort(energy)[::-1][:N_SPOTS]
    return [int(starts[i]) for i in sorted(order)]
