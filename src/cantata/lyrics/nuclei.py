"""Syllable evidence of a vocal stem, per 10 ms frame.

Three tracks at :data:`HOP_S`: the level of the 300–3000 Hz band (where vowels carry their
energy) in dB, the periodicity of the voice (the normalised autocorrelation peak at a lag
of 1–14 ms, i.e. 70–1000 Hz) with its pitch, and from them the *onset* evidence: a rise of
the band level, a voiced start, or a pitch step to a new stable note, which is where a sung
syllable begins, weighted by how voiced the next :data:`NUCLEUS_FRAMES` are (the syllable's
vowel). Syllable-nucleus candidates are the peaks of the onset evidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d
from scipy.signal import find_peaks

#: the analysis rate, the frame hop and the window
RATE = 16000
HOP_S = 0.01
WINDOW_S = 0.04
BAND_HZ = (300.0, 3000.0)
PITCH_HZ = (70.0, 1000.0)
#: a frame is voiced above this periodicity (normalised autocorrelation peak)
VOICED = 0.45
#: a band-level rise over RISE_FRAMES counts from RISE_FLOOR_DB (tremolo stays below) and
#: is a full onset RISE_DB above that; the level is smoothed over SMOOTH_FRAMES first
RISE_FLOOR_DB = 3.0
RISE_DB = 9.0
RISE_FRAMES = 4
SMOOTH_FRAMES = 3
#: semitones between the median pitch before and after a frame: from STEP_FLOOR (vibrato
#: and jitter stay below) to a full step STEP_SEMITONES above it
STEP_FLOOR = 0.6
STEP_SEMITONES = 1.0
STEP_FRAMES = 6
#: onset candidates: at least this far apart
MIN_GAP_S = 0.15
#: an onset counts as much as the voice is voiced over the NUCLEUS_FRAMES after it (a
#: syllable's nucleus is a vowel; a breath or a noise has none)
NUCLEUS_FRAMES = 15
#: the band level is active this many dB above the stem's quiet floor; a stem whose loud
#: frames stand less than MIN_SPAN_DB above it (silence, steady noise) is never active
ACTIVE_DB = 12.0
MIN_SPAN_DB = 10.0


@dataclass(frozen=True)
class Evidence:
    """Frame-wise syllable evidence of one vocal stem; frame i is centred on i * hop_s.

    Attributes:
        level_db: band level (dB).
        voicing: periodicity in [0, 1].
        pitch: MIDI pitch where voiced, NaN elsewhere.
        onset: onset evidence in [0, 1].
        activity: how surely the voice sounds, in [0, 1] (band level over the floor).
        hop_s: frame hop in seconds.
    """

    level_db: np.ndarray
    voicing: np.ndarray
    pitch: np.ndarray
    onset: np.ndarray
    activity: np.ndarray
    hop_s: float = HOP_S

    def __len__(self) -> int:
        return int(self.onset.size)

    @property
    def duration_s(self) -> float:
        return len(self) * self.hop_s

    def candidates(self, height: float = 0.15) -> np.ndarray:
        """Frames of the onset evidence's peaks (syllable-nucleus candidates), at least
        :data:`MIN_GAP_S` apart."""
        peaks, _ = find_peaks(self.onset, height=height,
                              distance=max(1, round(MIN_GAP_S / self.hop_s)))
        return peaks


def evidence(mono: np.ndarray, sample_rate: int = RATE) -> Evidence:
    """The syllable evidence of a mono vocal stem at ``sample_rate`` (use :data:`RATE`)."""
    hop, win = round(HOP_S * sample_rate), round(WINDOW_S * sample_rate)
    x = np.asarray(mono, np.float64)
    n_frames = max(1, int(np.ceil(x.size / hop)))
    rect = _frames(np.pad(x, (win // 2, win)), hop, win, n_frames)
    level = _band_level_db(rect * np.hanning(win)[None, :], sample_rate)
    voicing, pitch = _periodicity(rect, sample_rate)
    level = uniform_filter1d(level, SMOOTH_FRAMES)
    floor = float(np.percentile(level, 10))
    peak = float(np.percentile(level, 99))
    span = peak - floor
    activity = (np.clip((level - floor - min(ACTIVE_DB, 0.4 * span)) / (0.25 * span) + 0.5,
                        0.0, 1.0) if span >= MIN_SPAN_DB else np.zeros_like(level))
    return Evidence(level, voicing, pitch, onset_strength(level, voicing, pitch), activity)


def voiced_after(voicing: np.ndarray) -> np.ndarray:
    """How voiced the :data:`NUCLEUS_FRAMES` after each frame are, in [0, 1]."""
    ahead = uniform_filter1d((voicing > VOICED).astype(np.float64), NUCLEUS_FRAMES,
                             origin=-(NUCLEUS_FRAMES // 2), mode="nearest")
    return np.clip(ahead, 0.0, 1.0)


def onset_strength(level_db: np.ndarray, voicing: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Onset evidence in [0, 1]: the strongest of a band-level rise, a voicing start and a
    step between two stable pitches."""
    k = RISE_FRAMES
    rise = np.zeros_like(level_db)
    rise[k:] = level_db[k:] - level_db[:-k]
    rise = np.clip((rise - RISE_FLOOR_DB) / RISE_DB, 0.0, 1.0)
    rise = np.roll(rise, -k // 2)  # centre the rise on its middle
    voiced = voicing > VOICED
    start = np.zeros_like(level_db)
    start[1:] = voiced[1:] & ~voiced[:-1]
    start = maximum_filter1d(start, 3)
    step = _pitch_step(pitch)
    return np.maximum.reduce([rise, 0.8 * start, step]) * voiced_after(voicing)


def _pitch_step(pitch: np.ndarray) -> np.ndarray:
    """How far (in :data:`STEP_SEMITONES`) the median pitch after each frame differs from
    the one before, where both sides are voiced."""
    k = STEP_FRAMES
    filled = np.where(np.isnan(pitch), 0.0, pitch)
    voiced = (~np.isnan(pitch)).astype(np.float64)
    smooth = median_filter(filled, size=k, mode="nearest")
    ahead = np.roll(smooth, -(k // 2 + 1))
    behind = np.roll(smooth, k // 2 + 1)
    both = (uniform_filter1d(voiced, 2 * k + 1) > 0.8)
    step = np.where(both, (np.abs(ahead - behind) - STEP_FLOOR) / STEP_SEMITONES, 0.0)
    step[: k + 1] = step[-(k + 1):] = 0.0
    return np.clip(step, 0.0, 1.0)


def _frames(x: np.ndarray, hop: int, win: int, n_frames: int) -> np.ndarray:
    idx = np.arange(win)[None, :] + hop * np.arange(n_frames)[:, None]
    return x[idx]


def _band_level_db(frames: np.ndarray, sample_rate: int) -> np.ndarray:
    n_fft = 1 << int(np.ceil(np.log2(frames.shape[1])))
    spectrum = np.abs(np.fft.rfft(frames, n_fft, axis=1)) ** 2
    hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    band = (hz >= BAND_HZ[0]) & (hz <= BAND_HZ[1])
    return 10.0 * np.log10(spectrum[:, band].sum(axis=1) + 1e-10)


def _periodicity(frames: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised autocorrelation peak in the pitch range (each lag normalised by the energy
    of the two parts it compares; the shortest lag within 85 % of the best, against octave
    errors), and its MIDI pitch (NaN where unvoiced), in blocks of frames."""
    win = frames.shape[1]
    n_fft = 2 * (1 << int(np.ceil(np.log2(win))))
    lo = max(1, int(sample_rate / PITCH_HZ[1]))
    hi = min(win // 2, int(sample_rate / PITCH_HZ[0]))
    lags = np.arange(lo, hi + 1)
    voicing = np.zeros(len(frames))
    pitch = np.full(len(frames), np.nan)
    for a in range(0, len(frames), 2000):
        block = frames[a:a + 2000]
        acf = np.fft.irfft(np.abs(np.fft.rfft(block, n_fft, axis=1)) ** 2, n_fft, axis=1)
        c = np.cumsum(block ** 2, axis=1)
        head = c[:, win - 1 - lags]
        tail = c[:, -1:] - c[:, lags - 1]
        norm = acf[:, lags] / np.sqrt(np.maximum(head * tail, 1e-20))
        peak = norm.max(axis=1)
        local = np.zeros_like(norm, bool)
        local[:, 1:-1] = (norm[:, 1:-1] >= norm[:, :-2]) & (norm[:, 1:-1] >= norm[:, 2:])
        first = np.argmax(local & (norm >= 0.85 * peak[:, None]), axis=1)
        rows = np.arange(len(block))
        value = norm[rows, first]
        voicing[a:a + len(block)] = np.clip(value, 0.0, 1.0)
        left = norm[rows, np.maximum(first - 1, 0)]
        right = norm[rows, np.minimum(first + 1, lags.size - 1)]
        bend = left - 2 * value + right  # a parabola through the peak refines the lag
        shift = np.where(bend < 0, 0.5 * (left - right) / np.where(bend < 0, bend, -1), 0.0)
        hz = sample_rate / (lags[first] + np.clip(shift, -0.5, 0.5))
        pitch[a:a + len(block)] = np.where(value > VOICED, 69 + 12 * np.log2(hz / 440.0),
                                           np.nan)
    return voicing, pitch
