"""A lossy codec's frame grid, found again in decoded audio: the other cue of a transcode.

AAC and Vorbis code music as MDCT coefficients, 1,024 new samples per long frame, and the
encoder quantizes many of the high-frequency coefficients to zero, even at 256-320 kbit/s
where it leaves no low-pass shelf (:mod:`cantata.assess.bandwidth`). Decoding overlaps and
adds the frames; the MDCT of the decoded audio, taken with the codec's window on the
codec's own frame grid, gives those coefficients back exactly (time-domain aliasing
cancellation), zeros included, up to the rounding of the file's samples. On any other grid
the zeros smear into their neighbours. So the share of near-zero coefficients above
500 Hz, counted where the music is (bands the recording leaves quiet are near zero on
every grid and say nothing), as a function of the grid's offset (0-1023 samples), has one
sharp peak in a transcode and none in a recording that never went through the codec.

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
import scipy.ndimage

#: new samples per long frame (AAC-LC and Vorbis' long blocks)
HOP = 1024
#: coefficients under this are "zero": ~3.5 deviations of 16-bit rounding noise's MDCT
#: (8.8e-6 x sqrt(sum w^2) for an unnormalised transform of a 2048-sample window)
ZERO = 1e-3
#: the coefficients counted: above LOW_HZ, where the RMS of the ACTIVE_BINS around one
#: (in its frame) exceeds ACTIVE (chosen on the training part of the benchmark)
LOW_HZ = 500.0
ACTIVE_BINS = 17
ACTIVE = 1e-2
#: a recording with no more than this above its Nyquist frequency is not tested
MIN_NYQUIST_HZ = 8000.0
#: frames per offset at one spot, the spots tried for the likely grids, and the frames
#: per offset of the search of every offset
FRAMES = 16
N_SPOTS = 4
FULL_FRAMES = 2
N_CANDIDATES = 4
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
        zero_share: the share of near-zero coefficients among those counted on that grid
            (at least half the offsets' median count: a grid where few count is weak
            evidence).
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
    q = HOP // 2
    w = (0.5 * window).astype(np.float32)  # the transform's 1/2, exact in binary
    a, b, c, d = (slice(i * q, (i + 1) * q) for i in range(4))
    folded = np.empty((len(frames), HOP), np.float32)  # [-c' - d, a - b'], ' reversed
    left, right, part = folded[:, :q], folded[:, q:], np.empty((len(frames), q), np.float32)
    np.multiply(frames[:, c][:, ::-1], w[c][::-1], out=left)
    left += np.multiply(frames[:, d], w[d], out=part)
    np.negative(left, out=left)
    np.multiply(frames[:, a], w[a], out=right)
    right -= np.multiply(frames[:, b][:, ::-1], w[b][::-1], out=part)
    return scipy.fft.dct(folded, type=4, axis=1, overwrite_x=True)[:, bins]


def zero_counts(x: np.ndarray, start: int, window: np.ndarray, sample_rate: int,
                offsets: np.ndarray, frames: int) -> np.ndarray:
    """Per grid offset of ``offsets`` and frame: (near-zero coefficients, coefficients
    counted) in ``frames`` frames from ``start + offset`` of the 1-D ``x``, above
    :data:`LOW_HZ` (:func:`zeros`); (2, offsets, frames)."""
    bins = slice(int(LOW_HZ / (sample_rate / 2) * HOP), HOP)
    if len(offsets) == HOP and np.array_equal(offsets, np.arange(HOP)):
        # every offset: the frames from start, start + 1, ... (a view, no copy)
        segments = np.lib.stride_tricks.sliding_window_view(
            x[start:start + (frames + 2) * HOP - 1], 2 * HOP)
        counts = zeros(mdct(segments, window, bins))  # row f * HOP + offset
        return counts.reshape(2, frames, HOP).transpose(0, 2, 1)
    starts = (start + offsets[:, None] + HOP * np.arange(frames)[None]).ravel()
    frames_ = np.lib.stride_tricks.sliding_window_view(x, 2 * HOP)[starts]  # rows copied
    counts = zeros(mdct(frames_, window, bins))
    return counts.reshape(2, len(offsets), frames)


def zeros(coeffs: np.ndarray) -> np.ndarray:
    """Per frame of ``coeffs`` (frames, bins): (near-zero coefficients among those counted,
    how many were counted); (2, frames). Counted: where the RMS of the
    :data:`ACTIVE_BINS` around a coefficient exceeds :data:`ACTIVE` (a band the
    recording leaves quiet is near zero on every grid)."""
    power = np.square(coeffs)
    local = scipy.ndimage.uniform_filter1d(power, ACTIVE_BINS, axis=1,
                                           mode="nearest")  # a running sum in double
    counted = local > ACTIVE ** 2
    zero = np.logical_and(power < ZERO ** 2, counted)
    return np.stack([np.count_nonzero(zero, axis=1), np.count_nonzero(counted, axis=1)])


def find_grid(samples: np.ndarray, sample_rate: int) -> Grid | None:
    """The sharpest codec frame grid in ``samples`` (channels, time), or None when the
    recording is too short or too low-rate (nothing above 4 kHz) to tell.

    First the likely grids: offsets in steps of :data:`LIKELY_STEP` (where decoders that
    trim the codec's priming, and Vorbis' block switching, leave them), ``FRAMES`` frames
    at each of the :data:`N_SPOTS` loudest spots, against :data:`N_TYPICAL` other offsets;
    then, unless one is found, every offset at the loudest spot (an edited file may start
    anywhere) in :data:`FULL_FRAMES` frames, whose :data:`N_CANDIDATES` best offsets are
    scored as the likely ones were (a few frames are too few to tell a codec's grid from a
    tone's phase, which zeroes coefficients in a frame here and there).
    """
    x = np.asarray(np.atleast_2d(samples)[0], np.float32)
    span = HOP * (FRAMES + 1) + HOP
    if len(x) < span or sample_rate / 2 <= MIN_NYQUIST_HZ:
        return None
    spots = _spots(x, span)
    if _repeats(x[spots[0]:spots[0] + span]):
        return None
    rng = np.random.default_rng(0)
    likely = np.arange(0, HOP, LIKELY_STEP)  # from the start of the recording
    others = rng.choice(np.setdiff1d(np.arange(HOP), likely), N_TYPICAL, replace=False)
    windows_ = _windows()
    typical = [_counts(x, spots, window, sample_rate, others) for _, window in windows_]
    best: Grid | None = None
    for (codec, window), counts in zip(windows_, typical, strict=True):
        best = _better(best, _best_of(codec, _counts(x, spots, window, sample_rate, likely),
                                      likely, counts, others))
    if best is not None and best.found:
        return best
    for (codec, window), counts in zip(windows_, typical, strict=True):
        every = zero_counts(x, spots[0], window, sample_rate, np.arange(HOP), FULL_FRAMES)
        shares = np.median(every[0] / np.maximum(every[1], 1), axis=1)
        candidates = np.setdiff1d((spots[0] + np.argsort(shares)[-N_CANDIDATES:]) % HOP, others)
        best = _better(best, _best_of(codec, _counts(x, spots, window, sample_rate, candidates),
                                      candidates, counts, others))
    return best


def _counts(x: np.ndarray, spots: list[int], window: np.ndarray, sample_rate: int,
            grids: np.ndarray) -> np.ndarray:
    """:func:`zero_counts` of the grids at absolute offsets ``grids`` in :data:`FRAMES`
    frames at each spot; (spots, 2, grids, FRAMES)."""
    return np.stack([zero_counts(x, start, window, sample_rate, (grids - start) % HOP, FRAMES)
                     for start in spots])


def _best_of(codec: str, counts: np.ndarray, grids: np.ndarray, typical: np.ndarray,
             others: np.ndarray) -> Grid:
    """The sharpest of ``grids`` (their :func:`_counts` ``counts``) against the ``others``
    (``typical``), at each spot (Vorbis' block switching can move its grid) and with the
    spots pooled (AAC keeps one grid through the whole recording: their evidence adds up)."""
    both = np.concatenate([counts, typical], axis=2)
    offsets = np.concatenate([grids, others])
    best = _peak(codec, np.concatenate(list(both), axis=2), offsets, 0)
    for spot in both:
        best = _better(best, _peak(codec, spot, offsets, 0))
    return best


def _windows() -> list[tuple[str, np.ndarray]]:
    return [(codec, w) for codec, ws in windows().items() for w in ws]


def _better(a: Grid | None, b: Grid) -> Grid:
    return b if a is None or b.z > a.z else a


def _peak(codec: str, counts: np.ndarray, offsets: np.ndarray, start: int) -> Grid:
    """The offset of ``offsets`` (from ``start``) whose frames hold the highest share of
    near-zero coefficients (of :func:`zero_counts`' ``counts``, (2, offsets, frames)),
    scored against the others; the deviation's floor is one coefficient's share (the
    smallest step of a share)."""
    zero, counted = counts.sum(axis=2)
    # an offset with few coefficients counted is weak evidence, not a high share
    shares = zero / np.maximum(counted, max(1.0, 0.5 * float(np.median(counted))))
    top = int(np.argmax(shares))
    median = float(np.median(shares))
    spread = 1.4826 * float(np.median(np.abs(shares - median)))
    z = (float(shares[top]) - median) / max(spread, 1.0 / max(float(np.median(counted)), 1))
    return Grid(codec, int((start + offsets[top]) % HOP), float(shares[top]), median,
                round(z, 2))


def _repeats(x: np.ndarray) -> bool:
    """Whether ``x`` (time,) repeats itself every one or two frames (within 60 dB): a tone
    at a multiple of the rate / 2048 or a click track that regular is the same on every
    frame, and its own coefficients vanish on a grid of its phase as a codec's would."""
    energy = float(np.square(x).sum())
    return any(float(np.square(x[lag:] - x[:-lag]).sum()) < 1e-6 * energy
               for lag in (HOP, 2 * HOP))


def _spots(x: np.ndarray, span: int) -> list[int]:
    """The :data:`N_SPOTS` starts, of eight spread over the recording, where its
    high-passed signal (the first difference) is loudest."""
    last = len(x) - span
    starts = np.unique(np.linspace(0, last, 8).astype(np.int64))
    d = np.diff(x)
    energy = [float(np.square(d[s:s + span - 1]).sum()) for s in starts]
    order = np.argsort(energy)[::-1][:N_SPOTS]
    return [int(starts[i]) for i in sorted(order)]
