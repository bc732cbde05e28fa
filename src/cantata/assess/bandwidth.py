"""Bandwidth and lossy history: the effective bandwidth, the shelf a lossy encoder leaves,
upsampling and padded bit depth.

A lossy encoder (MP3, AAC, Vorbis, Opus) low-passes the audio at a frequency set by its
bitrate, far below the file's Nyquist frequency, with a transition a few hundred hertz
wide; decoded and saved again (a "lossless" transcode), the file keeps that shelf: the
music stops and only the new file's quantization noise is left above it. Natural
recordings roll off gradually, and an anti-alias filter sits at the Nyquist frequency.
A resampler leaves the same kind of shelf at the old Nyquist frequency (an upsampled
file). The rule's thresholds were tuned on FFmpeg encodes of a training part of the
sources in ``bench/assess_transcode.py`` (docs/assess.md).

AAC and Vorbis at high bitrates leave no shelf; their frame grid gives them away instead
(:mod:`cantata.assess.mdct_grid`), and names the codec better than a shelf does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cantata.assess.mdct_grid import MIN_Z as MIN_GRID_Z
from cantata.assess.mdct_grid import Grid, find_grid

N_FFT = 4096
MAX_FRAMES = 256
#: frames more than this far under the loudest are left out (fades, silence)
ACTIVE_DB = 40.0
PERCENTILE = 90.0  # per bin: the level 10 % of the active frames exceed
SMOOTH_HZ = 100.0
BAND_HZ = 600.0  # the levels compared on either side of a candidate shelf
GUARD_HZ = 250.0  # the shelf's transition, skipped
#: a shelf drops at least this much, and nothing above it comes back by more than
#: RETURN_DB (tuned: docs/assess.md)
SHELF_DB = 20.0
RETURN_DB = 10.0
#: a shelf down to the bare rounding noise of the file's integer samples (within
#: FLOOR_MARGIN_DB of it: nothing at all above the shelf) needs only this drop
FLOOR_SHELF_DB = 8.0
FLOOR_MARGIN_DB = 3.0
#: the level :func:`spectrum` gives the rounding noise of one channel of 16-bit samples
FLOOR_16BIT_DB = -65.7
#: lossy shelves lie between these (Hz) and under this share of the Nyquist frequency
#: (above it: an anti-alias filter)
LOSSY_MIN_HZ, LOSSY_MAX_SHARE = 10000.0, 0.95
#: effective bandwidth without a shelf: the highest frequency within this of the peak level
BANDWIDTH_DB = 60.0
#: standard rates: a shelf within this share under one's Nyquist (below the file's) means
#: the file was resampled up from it
RESAMPLED_FROM = (8000, 11025, 16000, 22050, 24000, 44100, 48000, 88200, 96000)
UPSAMPLED_SHARE = (0.93, 1.005)
#: (codec, bitrate class) -> the median shelf FFmpeg's encoders left on the stereo 44.1 kHz
#: training sources of bench/assess_transcode.py (a mono file gets twice the bitrate per
#: channel, so it reads as a class higher). Opus cuts at 20 kHz at every bitrate; AAC at
#: 256k and more and Vorbis at 256k and more mostly leave no shelf
SHELVES: dict[tuple[str, str], float] = {
    ("mp3", "96k"): 15315.0, ("mp3", "128k"): 16624.0, ("mp3", "192k"): 18718.0,
    ("mp3", "256k"): 19412.0, ("mp3", "320k"): 20107.0,
    ("aac", "96k"): 16430.0, ("aac", "128k"): 17334.0, ("aac", "192k"): 19418.0,
    ("vorbis", "96k"): 16694.0, ("vorbis", "128k"): 19030.0, ("vorbis", "192k"): 19595.0,
    ("opus", "96k+"): 20150.0,
}


@dataclass(frozen=True)
class Bandwidth:
    """What the spectrum says about a recording's history.

    Attributes:
        bandwidth_hz: the effective bandwidth: the shelf when there is one, else the highest
            frequency within :data:`BANDWIDTH_DB` of the loudest.
        shelf_hz: a steep shelf's frequency, or None.
        shelf_db: how far the level drops across it (0 without one).
        transcoded: a lossy encoder's shelf: the file was lossy before.
        codec, bitrate_class: the likeliest encoder and bitrate (None unless transcoded).
        confidence: how sure the lossy verdict is, 0..1 (either way).
        upsampled_from: the sample rate the file was resampled up from, or None.
        freqs_hz, level_db: the spectrum the verdicts come from (90th percentile per bin).
        evidence: what the lossy verdict rests on: ``"shelf"``, ``"mdct_grid"``,
            ``"shelf+mdct_grid"`` (the grid naming the codec) or None.
        grid: the codec frame grid test's result, when it ran.
    """

    bandwidth_hz: float
    shelf_hz: float | None
    shelf_db: float
    transcoded: bool
    codec: str | None
    bitrate_class: str | None
    confidence: float
    upsampled_from: int | None
    freqs_hz: np.ndarray
    level_db: np.ndarray
    evidence: str | None = None
    grid: Grid | None = None

    @property
    def upsampled(self) -> bool:
        return self.upsampled_from is not None


def spectrum(mono: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies, level in dB): per bin, the :data:`PERCENTILE` of the active frames'
    power, of at most :data:`MAX_FRAMES` Hann frames spread over the recording."""
    n_fft = N_FFT if sample_rate <= 50000 else 2 * N_FFT
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)
    if len(mono) < n_fft:
        mono = np.pad(mono, (0, n_fft - len(mono)))
    starts = np.unique(np.linspace(0, len(mono) - n_fft, min(MAX_FRAMES, len(mono) // n_fft
                                                              + 1)).astype(np.int64))
    frames = mono[starts[:, None] + np.arange(n_fft)] * np.hanning(n_fft).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    db = 10 * np.log10(power + 1e-20)
    total = 10 * np.log10(power.sum(axis=1) + 1e-20)
    active = db[total >= total.max() - ACTIVE_DB]
    level = np.percentile(active, PERCENTILE, axis=0)
    width = max(1, round(SMOOTH_HZ / (freqs[1] - freqs[0])))
    return freqs, _running_median(level, width)


def _running_median(x: np.ndarray, width: int) -> np.ndarray:
    padded = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)


def rounding_floor_db(bits: int | None, channels: int) -> float | None:
    """The :func:`spectrum` level of the rounding noise of ``bits``-bit samples, mixed down
    from ``channels`` channels (None for float samples)."""
    if bits is None:
        return None
    return FLOOR_16BIT_DB - 6.0206 * (bits - 16) - 10 * np.log10(channels)


def integer_bits(samples: np.ndarray, *, probe: int = 1 << 16) -> int | None:
    """16 or 24 when the samples (a probe of the start and the middle) are integers of
    that many bits, else None (float audio)."""
    n = samples.shape[-1]
    x = np.concatenate([samples[..., :probe].ravel(),
                        samples[..., n // 2:n // 2 + probe].ravel()]).astype(np.float64)
    for bits in (16, 24):
        scaled = x * 2.0 ** (bits - 1)
        if np.array_equal(scaled, np.rint(scaled)):
            return bits
    return None


def find_shelf(freqs: np.ndarray, level: np.ndarray, floor_db: float | None = None
               ) -> tuple[float | None, float]:
    """The highest steep shelf: (frequency, drop in dB), or (None, largest drop seen). A
    shelf drops :data:`SHELF_DB`, or :data:`FLOOR_SHELF_DB` onto the rounding noise
    ``floor_db`` of integer samples (:func:`rounding_floor_db`)."""
    hz = freqs[1] - freqs[0]
    band, guard = max(1, round(BAND_HZ / hz)), max(1, round(GUARD_HZ / hz))
    n = len(level)
    csum = np.concatenate([[0.0], np.cumsum(level)])
    ks = np.arange(band, n - guard - band)
    if not len(ks):
        return None, 0.0
    below = (csum[ks] - csum[ks - band]) / band
    above = (csum[ks + guard + band] - csum[ks + guard]) / band
    drop = below - above
    # nothing above the shelf may come back: the highest level beyond it stays low
    tail_max = np.maximum.accumulate(level[::-1])[::-1]
    comes_back = tail_max[np.minimum(ks + guard, n - 1)] - above
    steep = drop >= SHELF_DB
    if floor_db is not None:
        steep |= (drop >= FLOOR_SHELF_DB) & (above <= floor_db + FLOOR_MARGIN_DB)
    ok = steep & (comes_back <= RETURN_DB)
    if not ok.any():
        return None, float(max(0.0, drop.max()))
    k = ks[np.flatnonzero(ok)[-1]]  # the highest shelf; its edge: where the drop peaks
    near = (ks >= k - band) & (ks <= k + band)
    best = ks[near][np.argmax(drop[near])]
    edge = best + guard // 2
    return float(freqs[edge]), float(drop[ks == best][0])


def analyse(samples: np.ndarray, sample_rate: int, *, grid: bool = True) -> Bandwidth:
    """The bandwidth facts of ``samples`` (channels, time) at ``sample_rate``; with
    ``grid``, the recording is searched for a codec's frame grid too (:func:`with_grid`)."""
    samples = np.atleast_2d(samples)
    mono = samples.mean(axis=0) if samples.shape[0] > 1 else samples[0]
    freqs, level = spectrum(np.asarray(mono, np.float32), sample_rate)
    floor = rounding_floor_db(integer_bits(samples), samples.shape[0])
    found = judge(freqs, level, sample_rate, floor)
    return with_grid(found, find_grid(samples, sample_rate)) if grid else found


#: the bitrate class of a transcode found by its grid alone: lower bitrates leave a shelf
GRID_BITRATE_CLASS = "192k+"


def with_grid(found: Bandwidth, grid: Grid | None) -> Bandwidth:
    """``found`` with the frame grid test's result. A grid that stands out makes the file
    a transcode by ``grid.codec`` (confidence from its ``z``: 0.5 at the threshold); with
    a shelf too, the grid names the codec (the codecs' shelves overlap, their windows do
    not) and the shelf the bitrate class (the nearest of that codec's shelves). A shelf
    taken for a resampler's is then the encoder's low-pass: at 96-128 kbit/s AAC and
    Vorbis cut a 48 kHz recording at 20.5-22 kHz, where a resampler from 44.1 kHz cuts."""
    if grid is None:
        return found
    if not grid.found:
        return replace(found, grid=grid)
    if (found.transcoded or found.upsampled) and found.shelf_hz is not None:
        shelves = {key: hz for key, hz in SHELVES.items() if key[0] == grid.codec}
        bitrate = (min(shelves, key=lambda key: abs(shelves[key] - found.shelf_hz))[1]
                   if shelves else found.bitrate_class)
        confidence = found.confidence if found.transcoded else _grid_confidence(grid)
        return replace(found, transcoded=True, codec=grid.codec, bitrate_class=bitrate,
                       confidence=confidence, upsampled_from=None,
                       evidence="shelf+mdct_grid", grid=grid)
    return replace(found, transcoded=True, codec=grid.codec,
                   bitrate_class=GRID_BITRATE_CLASS, confidence=_grid_confidence(grid),
                   evidence="mdct_grid", grid=grid)


def _grid_confidence(grid: Grid) -> float:
    """How sure a found grid is: 0.5 at the threshold ``MIN_Z``."""
    return round(float(1 / (1 + np.exp(-(grid.z - MIN_GRID_Z) / 4.0))), 3)


def judge(freqs: np.ndarray, level: np.ndarray, sample_rate: int,
          floor_db: float | None = None) -> Bandwidth:
    """The verdicts on a :func:`spectrum`; ``floor_db``: see :func:`find_shelf`."""
    shelf, drop = find_shelf(freqs, level, floor_db)
    nyquist = sample_rate / 2
    upsampled_from = _old_rate(shelf, sample_rate) if shelf is not None else None
    transcoded = (shelf is not None and upsampled_from is None
                  and LOSSY_MIN_HZ <= shelf <= LOSSY_MAX_SHARE * nyquist)
    codec = bitrate = None
    if transcoded:
        codec, bitrate = min(SHELVES, key=lambda key: abs(SHELVES[key] - shelf))
        # a shelf onto the rounding floor passed the lower threshold
        confidence = _confidence(drop, SHELF_DB if drop >= SHELF_DB else FLOOR_SHELF_DB)
    else:  # no shelf (sure as it is shallow), or one a lossy encoder does not leave
        confidence = 1.0 - _confidence(drop, SHELF_DB) if shelf is None else 0.9
    bandwidth = shelf if shelf is not None else _plain_bandwidth(freqs, level)
    return Bandwidth(float(bandwidth), shelf, drop, transcoded, codec, bitrate,
                     round(float(confidence), 3), upsampled_from, freqs, level,
                     evidence="shelf" if transcoded else None)


def _confidence(drop: float, threshold: float) -> float:
    """How sure a shelf of ``drop`` dB is lossy: 0.5 at ``threshold``, 0.98 16 dB over."""
    return float(1 / (1 + np.exp(-(drop - threshold) / 4.0)))


def _old_rate(shelf_hz: float, sample_rate: int) -> int | None:
    for rate in RESAMPLED_FROM:
        low, high = UPSAMPLED_SHARE
        if rate < sample_rate and low * rate / 2 <= shelf_hz <= high * rate / 2:
            return rate
    return None


def _plain_bandwidth(freqs: np.ndarray, level: np.ndarray) -> float:
    above = np.flatnonzero(level >= level.max() - BANDWIDTH_DB)
    return float(freqs[above[-1]]) if len(above) else 0.0


def padded_bits(samples: np.ndarray, declared_bits: int | None) -> int | None:
    """The bits of a ``declared_bits`` integer file that are really used when its low bits
    are all zero (a 24-bit file holding 16-bit audio gives 16), else None."""
    if declared_bits is None or declared_bits <= 16 or not samples.size:
        return None
    scaled = np.asarray(samples, np.float64) * 2.0 ** (declared_bits - 1)
    ints = np.rint(scaled).astype(np.int64)
    if not np.array_equal(ints, scaled):
        return None  # not integer samples of that depth (a float file)
    used = int(np.bitwise_or.reduce(ints.ravel()))
    if used == 0:
        return None
    zeros = (used & -used).bit_length() - 1
    return declared_bits - zeros if zeros >= 4 else None
