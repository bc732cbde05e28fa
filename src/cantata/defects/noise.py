"""Where noise was added to music: broadband bursts with square edges, and mains hum.

The ``noise_burst`` rule (:func:`cantata.defects.rules.noise_burst`) reports what these two
find; pure numpy (and soxr), on one mono signal, spans in samples of its rate.

- :func:`broadband_bursts`: a burst of white or pink noise lifts the spectrum above 1 kHz by
  a step and drops it back by a step, and holds its level in between. A drum or a cymbal
  starts with a step too, but decays; the edges of a dropout are steps from silence.
- :func:`mains_hum`: a hum is a line at exactly 50 or 60 Hz (and its multiples) that stands
  out of its neighbourhood, keeps its phase and keeps its level. A bass note near 50 Hz
  drifts in phase against the mains frequency (49.0 Hz turns once a second) and has an
  envelope.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import soxr

from cantata.regions import runs

#: the rate hum is looked for at (its lines and their multiples, up to 300 Hz)
HUM_RATE = 1000
#: offsets (Hz) of the neighbourhood a hum line is compared with
HUM_NEIGHBOURS_HZ = (-7.0, -4.0, 4.0, 7.0)


def band_levels(x: np.ndarray, sr: int, *, frame_s: float, lo_hz: float, n_bands: int,
                chunk: int = 4096, fft_chunk: int = 256) -> tuple[np.ndarray, int]:
    """Energy of ``n_bands`` log-spaced bands from ``lo_hz`` to Nyquist per frame of
    ``frame_s`` (half-overlapping Hann windows, frame i from sample ``i * hop`` on), in dB
    relative to a full-scale sine filling one band. Spectra are taken ``fft_chunk`` frames at
    a time (in the cache), band sums ``chunk`` frames at a time (the matrix products BLAS
    has always been given: another row count may round differently).

    Shape: (time,) -> (n_bands, frames); also returns the hop in samples.
    """
    hop = max(16, round(frame_s * sr))
    n_fft = 2 * hop
    if len(x) < n_fft:
        return np.zeros((n_bands, 0), np.float32), hop
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(x, np.float32), n_fft)[::hop]
    n = len(frames)
    window = np.hanning(n_fft).astype(np.float32)
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    edges = np.geomspace(lo_hz, sr / 2, n_bands + 1)
    bands = np.stack([(freqs >= a) & (freqs < b) for a, b in zip(edges[:-1], edges[1:],
                                                                strict=True)], axis=1)
    bands = bands.astype(np.float32) / (window.sum() / 2) ** 2
    power = np.empty((n, len(freqs)), np.float32)
    for i in range(0, n, fft_chunk):  # a chunk's spectra stay in the cache
        spectra = scipy.fft.rfft(frames[i:i + fft_chunk] * window, axis=1)  # 3x numpy's here
        np.add(spectra.real ** 2, spectra.imag ** 2, out=power[i:i + fft_chunk])
    out = np.empty((n, n_bands), np.float32)
    for i in range(0, n, chunk):
        out[i:i + chunk] = power[i:i + chunk] @ bands
    return 10 * np.log10(out.T + 1e-12), hop


def broadband_bursts(x: np.ndarray, sr: int, *, frame_s: float = 0.004, lo_hz: float = 1000.0,
                     n_bands: int = 8, step_db: float = 12.0, min_bands: int = 3,
                     context_s: float = 0.03, min_s: float = 0.012, max_s: float = 1.2,
                     decay_db: float = 6.0, silence_db: float = -60.0,
                     floor_db: float = -70.0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bursts of noise over the music of ``x`` (time,).

    A burst starts in a frame where at least ``min_bands`` bands (of ``n_bands`` above
    ``lo_hz``) stand ``step_db`` over their loudest frame of the ``context_s`` before; it
    lasts while those bands stay ``step_db / 2`` over that level, then must drop by
    ``step_db`` below its last frame within ``context_s``; between ``min_s`` and ``max_s``
    long (a click is shorter, a sound longer); its middle must not decay by more than
    ``decay_db`` from its first half to its second (a struck sound does); and the music
    around it must not be silent (a dropout's edges are steps too). Bands below
    ``floor_db`` (relative to a full-scale sine) do not count: the empty top of a lossy
    file flickers by more than a step.

    Returns:
        Start and end samples (exclusive) and the level the burst lifted its bands by (dB).
    """
    levels, hop = band_levels(x, sr, frame_s=frame_s, lo_hz=lo_hz, n_bands=n_bands)
    n = levels.shape[1]
    c = max(2, round(context_s * sr / hop))
    if n < 2 * c + 2:  # too short to see a step and what is around it
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    padded = np.pad(levels, ((0, 0), (c, c)), mode="edge")
    before = np.max([padded[:, c - k:c - k + n] for k in range(1, c + 1)], axis=0)
    after = np.max([padded[:, c + k:c + k + n] for k in range(1, c + 1)], axis=0)
    rises = (levels - before >= step_db) & (levels > floor_db)
    up = rises.sum(axis=0) >= min_bands
    shortest, longest = max(1, round(min_s * sr / hop)), round(max_s * sr / hop)
    quiet = 10 ** (silence_db / 20)
    found: list[tuple[int, int, float]] = []
    for i in np.flatnonzero(up & ~np.concatenate(([False], up[:-1]))):
        nxt = levels[:, min(i + 1, n - 1)]  # the burst may start late in frame i
        bands = np.flatnonzero((np.maximum(levels[:, i], nxt) - before[:, i] >= step_db)
                               & (np.maximum(levels[:, i], nxt) > floor_db))
        if len(bands) < min_bands:
            continue
        floor = before[bands, i]
        held = np.median(levels[bands, i + 1:i + longest + 2] - floor[:, None], axis=0)
        out = np.flatnonzero(held < step_db / 2)
        j = i + 1 + (int(out[0]) if len(out) else held.size)
        if j >= n or not shortest <= j - i <= longest:
            continue
        if np.median(levels[bands, j - 1] - after[bands, j - 1]) < step_db:
            continue  # it faded out: a sound
        if j - i >= 6:  # the middle, edge frames left out (they may be partly outside)
            middle = levels[bands, i + 1:j - 1]
            half = middle.shape[1] // 2
            if np.median(middle[:, :half].mean(axis=1) - middle[:, half:].mean(axis=1)) > decay_db:
                continue
        # frame i spans [i hop, (i + 2) hop): a step it is the first to show lies about half
        # a hop in (the frame before saw too little of it)
        start, end = i * hop + hop // 2, j * hop + hop // 2
        around = np.concatenate((x[max(0, start - c * hop):start], x[end + hop:end + c * hop]))
        if not len(around) or np.mean(np.abs(around) < quiet) > 0.2:
            continue
        found.append((start, end, float(np.median(levels[bands, i:j].mean(axis=1) - floor))))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    starts, ends, lift = map(np.asarray, zip(*found, strict=True))
    return starts, ends, lift


def mains_hum(x: np.ndarray, sr: int, *, mains: tuple[float, ...] = (50.0, 60.0),
              harmonics: int = 5, window_s: float = 0.5, hop_s: float = 0.01,
              line_db: float = 6.0, coherence: float = 0.8, coherence_s: float = 1.0,
              min_harmonics: int = 3, min_s: float = 0.8, max_cv: float = 0.2,
              smooth_s: float = 0.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stretches of ``x`` (time,) with mains hum: a line at a multiple of 50 or 60 Hz.

    At ``HUM_RATE``, each multiple ``k * f0`` (``k`` up to ``harmonics``) is demodulated
    and averaged over ``window_s`` (a complex amplitude every ``hop_s``). A multiple hums
    where its power stands ``line_db`` over the mean power of its neighbours
    (:data:`HUM_NEIGHBOURS_HZ` away) and its phase holds (the mean amplitude over
    ``coherence_s`` is at least ``coherence`` x the mean magnitude). A stretch hums where
    the fundamental does, or ``min_harmonics`` multiples at once, for ``min_s`` or longer;
    its strongest line, projected on its mean phase, must vary by at most ``max_cv`` of its
    level inside the stretch (a note has an envelope); its edges are where that projection
    crosses half its level (the middle of the window's ramp), smoothed over ``smooth_s``. A
    loud partial in a line's neighbourhood (a held 55 Hz bass note, between the 50 and 60
    Hz lines) masks a hum that does not stand out of it.

    Returns:
        Start and end samples (exclusive, at ``sr``) and the line's lift over its
        neighbourhood (dB).
    """
    y = soxr.resample(np.asarray(x, np.float32), sr, HUM_RATE)
    hop = max(1, round(hop_s * HUM_RATE))
    half = max(1, round(window_s * HUM_RATE / 2 / hop)) * hop  # whole hops: see amplitude()
    n, blocks = len(y), -(-len(y) // hop)
    if n < round(max(window_s, coherence_s, min_s) * HUM_RATE) + hop:  # too short to tell
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    y = np.pad(y, (0, blocks * hop - n))  # zeros: they add nothing to a mean
    t = np.arange(len(y)) / HUM_RATE
    first = np.clip(np.arange(blocks) - half // hop, 0, blocks)  # in hops
    last = np.clip(np.arange(blocks) + half // hop, 0, blocks)
    count = np.minimum(last * hop, n) - first * hop
    shifts = {d: np.exp(-2j * np.pi * d * t).astype(np.complex64) for d in HUM_NEIGHBOURS_HZ}

    def amplitude(z: np.ndarray) -> np.ndarray:
        """The mean of ``z`` (a demodulated signal) around each centre (every hop, a boxcar of
        ``2 * half`` samples); the window's edges fall on whole hops, so sums per hop add up
        to it (a tenth of the work of summing every sample)."""
        cs = np.concatenate(([0], np.cumsum(z.reshape(blocks, hop).sum(axis=1,
                                                                        dtype=np.complex128))))
        return (cs[last] - cs[first]) / np.maximum(count, 1)

    def mean(z: np.ndarray, seconds: float) -> np.ndarray:
        """``np.convolve(z, np.ones(k) / k, "same")`` by cumulative sums (k: ``seconds``)."""
        k = max(1, round(seconds / hop_s))
        cs = np.concatenate(([0], np.cumsum(z)))
        i = np.arange(len(z)) + (k - 1) // 2
        return (cs[np.clip(i + 1, 0, len(z))] - cs[np.clip(i + 1 - k, 0, len(z))]) / k

    found: list[tuple[int, int, float]] = []
    shortest = max(1, round(min_s / hop_s))  # hops
    for f0 in mains:
        lines = [k * f0 for k in range(1, harmonics + 1)
                 if k * f0 + max(HUM_NEIGHBOURS_HZ) < 0.45 * HUM_RATE]
        turn = np.exp(-2j * np.pi * f0 * t).astype(np.complex64)
        phasors = [turn]
        while len(phasors) < len(lines):  # e^{-2 pi i k f0 t} as powers: fewer exps
            phasors.append(phasors[-1] * turn)
        base = [y * p for p in phasors]
        amp = np.array([amplitude(z) for z in base])
        around = np.array([np.mean([np.abs(amplitude(z * shifts[d])) ** 2 for d in shifts],
                                   axis=0) for z in base])
        lift = 10 * np.log10((np.abs(amp) ** 2 + 1e-20) / (around + 1e-20))
        held = np.array([np.abs(mean(a, coherence_s)) / (mean(np.abs(a), coherence_s) + 1e-12)
                         for a in amp])
        line = (lift > line_db) & (held > coherence)
        hums = line[0] | (line.sum(axis=0) >= min_harmonics)
        for a, b in runs(hums):
            if b - a < shortest:
                continue
            k = int(np.argmax(np.where(line[:, a:b], lift[:, a:b], -np.inf).max(axis=1)))
            phase = np.angle(amp[k, a:b].mean())
            proj = mean(np.real(amp[k] * np.exp(-1j * phase)), smooth_s)
            level = float(np.median(proj[a:b]))
            edge = half // hop
            inside = proj[a + edge:max(a + edge + 1, b - edge)]
            if level <= 0 or np.std(inside) > max_cv * abs(np.mean(inside)):
                continue
            lo, hi = a, b
            while lo > 0 and proj[lo - 1] >= level / 2:
                lo -= 1
            while hi < len(proj) and proj[hi] >= level / 2:
                hi += 1
            while lo < hi - 1 and proj[lo] < level / 2:
                lo += 1
            while hi > lo + 1 and proj[hi - 1] < level / 2:
                hi -= 1
            found.append((round(lo * hop * sr / HUM_RATE), round(hi * hop * sr / HUM_RATE),
                          float(np.median(lift[k, a:b]))))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    starts, ends, lift_db = map(np.asarray, zip(*found, strict=True))
    return starts, np.minimum(ends, len(x)), lift_db

