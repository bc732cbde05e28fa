"""Signal problems: clipped runs, DC offset, stereo image, silence at the ends, and the
hash of the decoded audio that finds the same content under two paths."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

#: a clipped run: at least this many consecutive samples at the channel's extreme value
CLIP_RUN = 3
#: ... within this of it (an interpolating decoder or a dithered gain leaves tiny ripples)
CLIP_TOLERANCE = 2.0 ** -15
#: peaks quieter than this (dBFS) are not clipping
CLIP_MIN_PEAK_DB = -6.0
SILENCE_DB = -60.0  # head and tail under this peak level count as silence
SILENCE_BLOCK_S = 0.01
#: the stereo verdicts: channels this correlated are the same (dual mono); a low-passed
#: correlation under INVERTED means one channel's polarity is flipped
DUAL_MONO_ERROR_DB = -60.0
INVERTED = -0.5
BASS_BLOCK = 64  # samples averaged for the low-passed correlation (the bass is centred)


@dataclass(frozen=True)
class Clipping:
    """Runs of :data:`CLIP_RUN` or more samples stuck at a channel's extreme value."""

    runs: int
    seconds: float
    worst_s: float


@dataclass(frozen=True)
class Stereo:
    """The stereo image (None values for a mono file).

    Attributes:
        correlation: Pearson correlation of left and right, -1..1.
        mono_loss_db: level of the mono fold-down (L+R)/2 against the channels' mean
            level, dB (0 for dual mono, about -3 for unrelated channels, very negative
            when the channels cancel).
        dual_mono: the two channels carry the same signal.
        inverted: one channel's polarity is flipped (the bass cancels in mono).
    """

    correlation: float | None
    mono_loss_db: float | None
    dual_mono: bool = False
    inverted: bool = False


def clipping(samples: np.ndarray, sample_rate: int) -> Clipping:
    """Clipped runs in any channel, counted once per channel and run."""
    runs, clipped, worst = 0, 0, 0
    for channel in samples:
        for sign in (1.0, -1.0):
            extreme = float(sign * channel.max() if sign > 0 else sign * channel.min())
            if 20 * math.log10(max(extreme, 1e-12)) < CLIP_MIN_PEAK_DB:
                continue
            at = np.flatnonzero(sign * channel >= extreme - CLIP_TOLERANCE)
            lengths = _run_lengths(at)
            long = lengths[lengths >= CLIP_RUN]
            runs += len(long)
            clipped += int(long.sum())
            worst = max(worst, int(long.max()) if len(long) else 0)
    return Clipping(runs, clipped / sample_rate, worst / sample_rate)


def _run_lengths(at: np.ndarray) -> np.ndarray:
    """Lengths of the runs of consecutive indices in the sorted ``at``."""
    if not len(at):
        return np.zeros(0, np.int64)
    breaks = np.flatnonzero(np.diff(at) != 1)
    ends = np.concatenate([breaks, [len(at) - 1]])
    starts = np.concatenate([[0], breaks + 1])
    return ends - starts + 1


def dc_offset(samples: np.ndarray) -> float:
    """The largest channel mean (signed), full scale 1."""
    means = samples.mean(axis=1, dtype=np.float64)
    return float(means[np.argmax(np.abs(means))])


def stereo(samples: np.ndarray) -> Stereo:
    """Correlation, fold-down loss, dual mono and polarity of a two-channel recording."""
    if samples.shape[0] != 2:
        return Stereo(None, None)
    left, right = (c - np.float32(c.mean(dtype=np.float64))
                   for c in np.asarray(samples, np.float32))
    e_left, e_right = float(left @ left), float(right @ right)
    if e_left == 0.0 or e_right == 0.0:
        return Stereo(0.0, _db(((e_left + e_right) / 4) / max((e_left + e_right) / 2, 1e-30)))
    cross = float(left @ right)
    correlation = cross / math.sqrt(e_left * e_right)
    fold = (e_left + e_right + 2 * cross) / 4
    mono_loss = _db(fold / ((e_left + e_right) / 2))
    residual = max(e_left + e_right - 2 * cross, 0.0)  # energy of left - right
    dual = _db(residual / max(e_left, e_right)) <= DUAL_MONO_ERROR_DB
    n = (len(left) // BASS_BLOCK) * BASS_BLOCK
    bass_l = left[:n].reshape(-1, BASS_BLOCK).mean(axis=1)
    bass_r = right[:n].reshape(-1, BASS_BLOCK).mean(axis=1)
    norm = math.sqrt(float(bass_l @ bass_l) * float(bass_r @ bass_r))
    bass_corr = float(bass_l @ bass_r) / norm if norm > 0 else 0.0
    return Stereo(correlation, mono_loss, dual, bass_corr < INVERTED)


def silence(samples: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """Seconds of silence (every channel under :data:`SILENCE_DB`) at the head and tail,
    in steps of :data:`SILENCE_BLOCK_S`; only the ends are read."""
    block = max(1, round(SILENCE_BLOCK_S * sample_rate))
    n = samples.shape[1]
    head = _quiet_blocks(samples, block, reverse=False) * block
    if head >= n:
        return n / sample_rate, 0.0
    tail = min(n - head, _quiet_blocks(samples, block, reverse=True) * block)
    return head / sample_rate, tail / sample_rate


def _quiet_blocks(samples: np.ndarray, block: int, *, reverse: bool) -> int:
    """How many whole blocks from one end are silent, reading a second's worth at a time."""
    threshold = 10 ** (SILENCE_DB / 20)
    n, step, quiet = samples.shape[1], 100 * block, 0
    for start in range(0, n, step):
        part = samples[:, n - start - min(step, n - start):n - start] if reverse \
            else samples[:, start:start + step]
        peak = np.abs(part).max(axis=0)
        blocks = -(-len(peak) // block)
        peak = np.pad(peak, (0, blocks * block - len(peak))).reshape(blocks, block).max(axis=1)
        loud = np.flatnonzero((peak[::-1] if reverse else peak) >= threshold)
        if len(loud):
            return quiet + int(loud[0])
        quiet += blocks
    return quiet


def pcm_hash(samples: np.ndarray) -> str:
    """A hash (SHA-256, 128 bits) of the decoded samples (float32, channel after channel):
    equal for the same audio in any lossless container (WAV, FLAC, AIFF ...), whatever its
    tags."""
    data = np.ascontiguousarray(samples, np.float32) + np.float32(0.0)  # -0.0 is 0.0
    digest = hashlib.sha256(np.asarray(data.shape, "<i8").tobytes())
    digest.update(memoryview(data).cast("B"))
    return digest.hexdigest()[:32]


def _db(ratio: float) -> float:
    return 10 * math.log10(ratio) if ratio > 0 else -math.inf
