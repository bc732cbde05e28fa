"""A track's spectrogram as a PNG for the page: log-mel power over time, computed by
streaming the decoded audio (memory bounded by the image, not the track) and encoded with
zlib (no imaging library)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from cantata import audio
from cantata.features.mel import mel_filterbank

RATE = 16000
N_FFT = 1024  # 64 ms, 15.6 Hz per bin
N_MELS = 128  # computed bands; the image's rows interpolate them
F_MIN_HZ = 30.0
RANGE_DB = 80.0  # the darkest colour is this far below the loudest cell
BLOCK_S = 30.0
# Anchors of a dark-to-bright colour map (black, indigo, magenta, orange, pale yellow).
ANCHORS = np.array([[0, 0, 4], [40, 11, 84], [140, 41, 129], [229, 92, 48], [252, 253, 191]],
                   dtype=np.float64)


def spectrogram_png(path: str, key: str, width: int, height: int) -> bytes:
    """The PNG of :func:`spectrogram` (low frequencies at the bottom); ``key`` names the
    file's content (its hash, or size and mtime) for the cache."""
    return _png_of(path, key, width, height)


@lru_cache(maxsize=32)
def _png_of(path: str, key: str, width: int, height: int) -> bytes:
    db = spectrogram(path, width, height)
    top = float(db.max())
    level = np.clip((db - (top - RANGE_DB)) / RANGE_DB, 0.0, 1.0)
    return png(np.round(level[::-1] * 255).astype(np.uint8), palette())


def spectrogram(path: str, width: int, height: int) -> np.ndarray:
    """(height, width) mel power in dB, row 0 the lowest band, column ``j`` the mean of the
    frames centred in the ``j``-th of ``width`` equal spans of the track (a span with no
    frame of its own takes its nearest neighbour's)."""
    duration = max(audio.info(path).duration_s, 1.0 / RATE)
    column = duration * RATE / width  # samples per column
    hop = int(np.clip(column // 2, 64, 512))
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic
    bank = mel_filterbank(sample_rate=RATE, n_fft=N_FFT, n_mels=N_MELS,
                          f_min_hz=F_MIN_HZ).numpy()
    power = np.zeros((width, N_MELS))
    counts = np.zeros(width)
    carry = np.zeros(N_FFT // 2, np.float32)  # centred frames: frame k at sample k * hop
    first = 0  # index of the next frame
    blocks = (b.samples[0] for b in audio.stream(path, block_s=BLOCK_S, sample_rate=RATE,
                                                 mono=True))
    for x in _then(blocks, np.zeros(N_FFT // 2, np.float32)):
        buf = np.concatenate([carry, x])
        n = (len(buf) - N_FFT) // hop + 1 if len(buf) >= N_FFT else 0
        if n:
            frames = np.lib.stride_tricks.sliding_window_view(buf, N_FFT)[::hop][:n]
            spectra = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
            cols = np.minimum(((first + np.arange(n)) * hop / column).astype(int), width - 1)
            np.add.at(power, cols, spectra @ bank.T)
            np.add.at(counts, cols, 1)
            first += n
        carry = buf[n * hop:]
    filled = np.flatnonzero(counts)
    if not len(filled):
        return np.full((height, width), -100.0)
    nearest = filled[np.clip(np.searchsorted(filled, np.arange(width)), 0, len(filled) - 1)]
    mean = power[nearest] / counts[nearest, None]
    rows = np.linspace(0, N_MELS - 1, height)  # each image row between two bands
    low = np.floor(rows).astype(int)
    high = np.minimum(low + 1, N_MELS - 1)
    frac = rows - low
    db = 10 * np.log10(mean + 1e-10)
    return (db[:, low] * (1 - frac) + db[:, high] * frac).T


def _then(blocks: Iterator[np.ndarray], tail: np.ndarray) -> Iterator[np.ndarray]:
    """The blocks, then ``tail`` (the padding that centres the last frames)."""
    yield from blocks
    yield tail


def palette() -> np.ndarray:
    """(256, 3) uint8 colours, dark (quiet) to bright (loud)."""
    at = np.linspace(0, len(ANCHORS) - 1, 256)
    return np.stack([np.interp(at, np.arange(len(ANCHORS)), ANCHORS[:, c]) for c in range(3)],
                    axis=1).round().astype(np.uint8)


def png(indices: np.ndarray, colours: np.ndarray) -> bytes:
    """An 8-bit palette PNG of a (height, width) uint8 image of indices into ``colours``."""
    height, width = indices.shape
    rows = np.hstack([np.zeros((height, 1), np.uint8), indices])  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", colours.astype(np.uint8).tobytes())
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))
