"""Classical rule detectors for defects: pure numpy, no model, hundreds of times real time.

Each rule takes a :class:`~cantata.types.Waveform` (or a ``(channels, time)`` array and its
``sample_rate``), looks at every channel, and returns :class:`DefectEvent` s in seconds,
sorted by start; a defect on any channel is an event (events of one type on several
channels that overlap are merged). Parameters are keyword arguments with documented
defaults; ``docs/defects.md`` ("Rules") explains each rule.

- :func:`clipping`: runs of samples held at the file's peak (hard) or on a flat top near
  it (soft, a plateau).
- :func:`dropout`: digital zeros or near-silence inside music, with loud context both sides.
- :func:`dc_offset`: a window mean beyond a threshold, edges placed by a change-point search.
- :func:`click`: short, isolated outliers of a short linear predictor's residual against a
  local robust noise floor (median absolute deviation).
- :func:`discontinuity`: a jump in the first difference far beyond the local slope envelope,
  not undone within 2 ms (which would be a click).
- :func:`noise_burst`: broadband noise with square edges over the music, or mains hum (a
  line at a multiple of 50/60 Hz that holds its phase and level).

:func:`detect` runs them all (or some) on one input; :func:`detect_blocks` on a recording
given block by block (bounded memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from cantata.audio.clicks import block_view as _block_view
from cantata.audio.clicks import click_peaks
from cantata.audio.clicks import silence_edges as _silence_edges
from cantata.defects import noise
from cantata.errors import ConfigError
from cantata.types import Waveform


@dataclass(frozen=True)
class DefectEvent:
    """One detected (or labelled) defect: its type, its span in seconds and a confidence.

    Attributes:
        type: a name of :data:`cantata.defects.DEFECT_TYPES`.
        start_s: start in seconds from the start of the recording.
        end_s: end in seconds (``>= start_s``).
        confidence: in [0, 1]; how sure the detector is.
    """

    type: str
    start_s: float
    end_s: float
    confidence: float = 1.0

    def to_dict(self) -> dict[str, float | str]:
        """The JSON shape of ``cantata defects``: ``type``, ``start``, ``end``, ``confidence``."""
        return {"type": self.type, "start": round(self.start_s, 6), "end": round(self.end_s, 6),
                "confidence": round(float(self.confidence), 4)}


def as_channels(src: Waveform | np.ndarray, sample_rate: int | None = None
                ) -> tuple[np.ndarray, int]:
    """``(samples (channels, time) float32, sample_rate)`` of a Waveform or an array and rate.

    Raises:
        ConfigError: an array without its sample rate, or a Waveform given another rate.
    """
    if isinstance(src, Waveform):
        if sample_rate is not None and int(sample_rate) != src.sample_rate:
            raise ConfigError(f"a Waveform at {src.sample_rate} Hz given with "
                              f"sample_rate={sample_rate}")
        return src.samples, src.sample_rate
    if sample_rate is None:
        raise ConfigError("an array needs its sample rate: pass sample_rate=")
    wave = Waveform(np.asarray(src), int(sample_rate))
    return wave.samples, wave.sample_rate


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (exclusive) of the runs of True in a 1-D boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return edges[0::2], edges[1::2]


def merge_spans(starts: np.ndarray, ends: np.ndarray, gap: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join spans (sorted by start) closer than ``gap``; returns starts, ends and, for each
    merged span, the index of its first input span (to reduce per-span values with)."""
    if len(starts) == 0:
        return starts, ends, np.zeros(0, int)
    reach = np.maximum.accumulate(ends)
    new = np.concatenate(([True], starts[1:] - reach[:-1] > gap))
    first = np.flatnonzero(new)
    last = np.concatenate((first[1:], [len(starts)])) - 1
    return starts[first], reach[last], first


def merge_events(events: Iterable[DefectEvent], gap_s: float = 0.0) -> list[DefectEvent]:
    """Merge overlapping (or ``gap_s``-close) events of one type; confidence is the max."""
    merged: list[DefectEvent] = []
    for event in sorted(events, key=lambda e: (e.type, e.start_s)):
        last = merged[-1] if merged else None
        if last is not None and last.type == event.type and event.start_s <= last.end_s + gap_s:
            merged[-1] = DefectEvent(last.type, last.start_s, max(last.end_s, event.end_s),
                                     max(last.confidence, event.confidence))
        else:
            merged.append(event)
    return sorted(merged, key=lambda e: (e.start_s, e.type))


def _events(kind: str, starts: Iterable[int], ends: Iterable[int], conf: Iterable[float],
            sr: int) -> list[DefectEvent]:
    return [DefectEvent(kind, int(a) / sr, int(b) / sr, float(np.clip(c, 0.0, 1.0)))
            for a, b, c in zip(starts, ends, conf, strict=True)]


def _per_channel(samples: np.ndarray, rule: Callable[[np.ndarray], list[DefectEvent]]
                 ) -> list[DefectEvent]:
    """``rule`` on every channel; overlapping events of several channels merged."""
    return merge_events(e for channel in samples for e in rule(channel))


# ---------------------------------------------------------------------------- clipping

def clipping(src: Waveform | np.ndarray, sample_rate: int | None = None, *,
             min_run: int = 3, peak_tolerance: float = 1e-3, held_run: int = 4,
             plateau_level_db: float = -1.0, plateau_slope: float = 1e-3,
             plateau_min_s: float = 5e-4, local_s: float = 0.1, min_runs: int = 3,
             min_peak: float = 0.05, merge_s: float = 0.5) -> list[DefectEvent]:
    """Clipped stretches: runs of samples held at a peak, or flat tops near it.

    A clipped run is one of: ``min_run`` consecutive samples within ``peak_tolerance`` of
    the file's peak (``max |x|`` over all channels; clipping at full scale); ``held_run``
    equal samples (hard clipping at any level); or a plateau ``plateau_min_s`` long, flat to
    ``plateau_slope`` (soft clipping with flat tops). Held runs and plateaus lie above the
    local peak (the largest ``|x|`` of their block of ``local_s``) plus ``plateau_level_db``.
    Runs closer than ``merge_s`` are one event, kept if it holds ``min_runs`` runs or more:
    clipping flattens many peaks, music has a lone flat top now and then.

    Args:
        src, sample_rate: the audio.
        min_run, peak_tolerance: clipping at the file's peak: run length, relative tolerance.
        held_run: equal consecutive samples (to 1e-6 of the local peak) that are a run.
        plateau_level_db: held runs and plateaus lie within this (dB) of the local peak.
        plateau_slope: a plateau's first differences stay below this times the local peak.
        plateau_min_s: a plateau lasts at least this long. Soft clipping whose tops keep the
            noise of the mix is not flat and is left to the learnt model.
        local_s: the block of the local peak: short, so that a clipped stretch a little
            longer than two blocks has a block of its own whatever its level.
        min_runs: the fewest clipped runs in an event.
        min_peak: audio whose peak is below this is not examined (it cannot clip).
        merge_s: clipped runs closer than this join into one event.

    Returns:
        ``clipping`` events; confidence ``1 - exp(-runs / min_runs)``.
    """
    samples, sr = as_channels(src, sample_rate)
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak < min_peak:
        return []
    block, plateau_run = max(1, round(local_s * sr)), max(min_run, round(plateau_min_s * sr))

    def rule(x: np.ndarray) -> list[DefectEvent]:
        mag = np.abs(x)
        blocks = _block_view(mag, block)
        local = np.maximum(blocks.max(axis=1), min_peak)
        near = blocks >= (local * 10 ** (plateau_level_db / 20))[:, None]
        top = np.flatnonzero(near.ravel()[:len(x)])  # few samples: the work is done on these
        step = np.abs(x[top] - x[np.maximum(top - 1, 0)]) / local[top // block]
        found = [_index_runs(top[mag[top] >= peak * (1 - peak_tolerance)], min_run),
                 _index_runs(top[step <= 1e-6], held_run - 1),  # n equal: n - 1 zero steps
                 _index_runs(top[step <= plateau_slope], plateau_run)]
        starts = np.concatenate([f[0] for f in found])
        ends = np.concatenate([f[1] for f in found])
        return _clipping_events(starts, ends, round(merge_s * sr), min_runs, sr)

    return _per_channel(samples, rule)


def _clipping_events(starts: np.ndarray, ends: np.ndarray, gap: int, min_runs: int,
                     sr: int) -> list[DefectEvent]:
    """Clipped runs (overlaps joined) merged into events of at least ``min_runs`` runs."""
    order = np.argsort(starts, kind="stable")
    starts, ends, _ = merge_spans(starts[order], ends[order], 0)
    s, e, first = merge_spans(starts, ends, gap)
    count = np.diff(np.concatenate((first, [len(starts)])))
    keep = count >= min_runs
    return _events("clipping", s[keep], e[keep], 1 - np.exp(-count[keep] / min_runs), sr)


def _index_runs(index: np.ndarray, min_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (exclusive) of the runs of consecutive integers in a sorted index,
    those at least ``min_len`` long."""
    if len(index) == 0:
        return index, index
    breaks = np.flatnonzero(np.diff(index) != 1)
    starts = index[np.concatenate(([0], breaks + 1))]
    ends = index[np.concatenate((breaks, [len(index) - 1]))] + 1
    keep = ends - starts >= min_len
    return starts[keep], ends[keep]


# ---------------------------------------------------------------------------- dropout

def dropout(src: Waveform | np.ndarray, sample_rate: int | None = None, *,
            silence_db: float = -60.0, min_s: float = 0.005, context_s: float = 0.05,
            context_db: float = -40.0, max_s: float = 2.0) -> list[DefectEvent]:
    """Dropouts: digital zeros or near-silence inside music that is not silent.

    Args:
        src, sample_rate: the audio.
        silence_db: a sample is silent when ``|x|`` is below this (dBFS); exact zeros are.
        min_s: a dropout lasts at least this long (5 ms).
        context_s: the stretches just before and after a silent run ...
        context_db: ... must both have an RMS above this (dBFS), so silent intros, fade-outs,
            endings and pauses in quiet music are not dropouts.
        max_s: longer silences are pauses, not dropouts.

    Returns:
        ``dropout`` events; confidence from the context's level above ``context_db``.
    """
    samples, sr = as_channels(src, sample_rate)
    threshold, ctx = 10 ** (silence_db / 20), max(1, round(context_s * sr))

    def rule(x: np.ndarray) -> list[DefectEvent]:
        starts, ends = _index_runs(np.flatnonzero(np.abs(x) <= threshold), round(min_s * sr))
        keep = (ends - starts <= max_s * sr) & (starts >= ctx) & (ends + ctx <= len(x))
        starts, ends = starts[keep], ends[keep]
        before = np.array([_rms_db(x[a - ctx:a]) for a in starts])
        after = np.array([_rms_db(x[b:b + ctx]) for b in ends])
        context = np.minimum(before, after) if len(starts) else np.zeros(0)
        loud = context >= context_db
        conf = 0.5 + (context[loud] - context_db) / 40
        return _events("dropout", starts[loud], ends[loud], conf, sr)

    return _per_channel(samples, rule)


def _rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


# ---------------------------------------------------------------------------- dc_offset

def dc_offset(src: Waveform | np.ndarray, sample_rate: int | None = None, *,
              threshold: float = 0.01, window_s: float = 1.0, hop_s: float = 0.25
              ) -> list[DefectEvent]:
    """A DC offset: the mean over a window beyond ``threshold``.

    Args:
        src, sample_rate: the audio.
        threshold: an absolute window mean above this (full scale 1.0; 0.01 is -40 dBFS) is
            an offset. Music averages to nearly zero over a second.
        window_s, hop_s: the window (audio shorter than it is not examined) and its hop
            (the window is a whole number of hops); a run of offset windows is one event, whose
            edges are then placed at the most likely step of the mean (a change-point
            search over cumulative sums within one window of each edge).

    Returns:
        ``dc_offset`` events; confidence ``max |mean| / (2 threshold)``, at most 1.
    """
    samples, sr = as_channels(src, sample_rate)
    hop = max(1, round(hop_s * sr))
    per = max(1, round(window_s / hop_s))  # hops per window
    win = per * hop

    def rule(x: np.ndarray) -> list[DefectEvent]:
        if len(x) < win:  # too short to tell an offset from the music's own swing
            return []
        sums = np.convolve(_block_view(x, hop).sum(axis=1, dtype=np.float64), np.ones(per),
                           "valid")
        starts = np.arange(len(sums)) * hop
        stops = np.minimum(starts + win, len(x))
        means = sums / np.maximum(stops - starts, 1)
        first, last = runs(np.abs(means) > threshold)
        cs = np.concatenate(([0.0], np.cumsum(x, dtype=np.float64))) if len(first) else None
        events = []
        for a, b in zip(first, last, strict=True):
            lo = _edge(cs, starts[a], max(0, starts[a] - hop), starts[a] + win, win, threshold)
            hi = _edge(cs, stops[b - 1], stops[b - 1] - win, stops[b - 1] + hop, win,
                       threshold)
            peak = float(np.max(np.abs(means[a:b])))
            events.append(DefectEvent("dc_offset", float(lo / sr), float(max(hi, lo + 1) / sr),
                                      min(1.0, peak / (2 * threshold))))
        return events

    return _per_channel(samples, rule)


def _edge(cs: np.ndarray, at: int, lo: int, hi: int, win: int, threshold: float) -> int:
    """Where an offset's edge found at window boundary ``at`` lies: the most likely step of
    the mean in ``[lo, hi]`` (CUSUM change point); at the file's start or end, the file's
    edge unless the mean steps there by at least the threshold."""
    n = len(cs) - 1
    lo, hi = max(0, lo), min(n, hi)
    if hi - lo < 2:
        return at
    t = np.arange(lo, hi + 1)
    stat = np.abs((cs[t] - cs[lo]) - (t - lo) / (hi - lo) * (cs[hi] - cs[lo]))
    step = int(t[np.argmax(stat)])
    if 0 < at < n:
        return step
    a, b = max(0, step - win), min(n, step + win)
    before = (cs[step] - cs[a]) / (step - a) if step > a else 0.0
    after = (cs[b] - cs[step]) / (b - step) if b > step else 0.0
    return step if step - a > 0 and b - step > 0 and abs(after - before) >= threshold else at


# ---------------------------------------------------------------------------- click

def click(src: Waveform | np.ndarray, sample_rate: int | None = None, *,
          threshold: float = 20.0, isolation: float = 0.3, context_s: float = 0.01,
          partial: float = 0.5, quiet: float = 4.0, order: int = 12, block_s: float = 0.025,
          min_db: float = -60.0, merge_s: float = 0.5, onset_db: float = 3.0,
          onset_s: float = 0.02, guard_s: float = 0.003) -> list[DefectEvent]:
    """Clicks and pops: short, isolated outliers of a linear predictor's residual.

    A predictor of ``order`` taps is fitted per block (autocorrelation method), its residual
    whitens the music; an outlier is a residual peak more than ``threshold`` robust standard
    deviations (1.4826 x the median absolute residual) of its block and both neighbours.
    It is a click when it is short and isolated: the residual's largest excess from
    ``context_s`` to 2 ms before it and from 3 ms to ``context_s`` + 2 ms after it (in 1 ms
    cells) stays below ``isolation`` x its own (a drum, a hi-hat or a pluck keeps the
    residual high for many milliseconds; a click of up to 2 ms does not).

    Args:
        src, sample_rate: the audio.
        threshold: the outlier factor over the local robust noise floor.
        isolation: the largest share of the outlier's excess its surroundings may reach.
        context_s: how far around the outlier isolation is checked.
        partial, quiet: with several channels, an outlier that the other channels show
            too (above ``quiet`` robust deviations) but less than ``partial`` x as strongly
            is one sound heard through panning and reverb, not a click (which is in one
            channel only, or alike in all).
        order: taps of the short linear predictor.
        block_s: the block over which the predictor and the noise floor are estimated.
        min_db: residual peaks below this (dBFS) are never clicks (dither, silence).
        merge_s: clicks closer than this are one event, with the outliers between them: a
            pop, a 2 ms impulse, or a crackle train (labelled as one event from its first
            click to its last).
        onset_db, onset_s, guard_s: an outlier after which the music is louder by more
            than ``onset_db`` (the energy of the ``onset_s`` after it against the
            ``onset_s`` before, ``guard_s`` either side of it left out) is the attack of a
            note or a drum, not a click: a click adds energy for 2 ms at most.

    Returns:
        ``click`` events; confidence ``1 - threshold / (peak ratio)``.
    """
    samples, sr = as_channels(src, sample_rate)
    found = click_peaks(samples, sr, threshold=threshold, isolation=isolation,
                        context_s=context_s, partial=partial, quiet=quiet, order=order,
                        block_s=block_s, min_db=min_db, merge_s=merge_s, onset_db=onset_db,
                        onset_s=onset_s, guard_s=guard_s)
    events: list[DefectEvent] = []
    for at, peak, _ in found:
        s, e, first = merge_spans(at, at + 1, round(merge_s * sr))
        top = np.maximum.reduceat(peak, first) if len(at) else np.zeros(0)
        events += _events("click", s, e, 1 - threshold / np.maximum(top, threshold), sr)
    return merge_events(events, gap_s=0.002)  # one click's peaks differ a little by channel


# ---------------------------------------------------------------------------- discontinuity

def discontinuity(src: Waveform | np.ndarray, sample_rate: int | None = None, *,
                  threshold: float = 4.0, block_s: float = 0.005, context_blocks: int = 4,
                  min_jump: float = 0.02, undo_s: float = 0.002, merge_s: float = 0.2
                  ) -> list[DefectEvent]:
    """Jumps: a first difference far beyond the local slope envelope, that stays.

    The envelope of ``|x[n] - x[n-1]|`` is its maximum per block; the reference of a block is
    the larger of the medians of the ``context_blocks`` blocks before and after it (not the
    block itself), so an onset, loud after, is not a jump.

    Args:
        src, sample_rate: the audio.
        threshold: a jump exceeds the reference by this factor ...
        block_s: ... with envelope blocks this long ...
        context_blocks: ... and this many blocks each side.
        min_jump: a jump is at least this (full scale 1.0).
        undo_s: a jump undone within this (an opposite difference of half its size or more)
            is an impulse, i.e. a click, not a discontinuity.
        merge_s: jumps closer than this are one event (a block repeated several times).

    Returns:
        ``discontinuity`` events from the first jump to one sample past the last;
        confidence ``1 - threshold / ratio`` of the largest jump.
    """
    samples, sr = as_channels(src, sample_rate)
    block, undo = max(2, round(block_s * sr)), max(1, round(undo_s * sr))
    silence = 10 ** (-60 / 20)

    def rule(x: np.ndarray) -> list[DefectEvent]:
        d = np.diff(x, prepend=x[:1])
        slope = np.abs(d)
        hits = np.flatnonzero(slope >= min_jump)
        reference = _slope_reference(slope, block, context_blocks)[hits // block]
        ratio = slope[hits] / np.maximum(reference, 1e-9)
        hits, ratio = hits[ratio > threshold], ratio[ratio > threshold]
        keep = ~_silence_edges(x, hits, undo, silence)
        keep &= np.array([not _undone(d, n, undo) for n in hits], bool)
        hits, ratio = hits[keep], ratio[keep]
        s, e, first = merge_spans(hits, hits + 1, round(merge_s * sr))
        peaks = np.maximum.reduceat(ratio, first) if len(hits) else np.zeros(0)
        return _events("discontinuity", s, e, 1 - threshold / peaks, sr)

    return _per_channel(samples, rule)


def _slope_reference(slope: np.ndarray, block: int, context: int) -> np.ndarray:
    """Per block: the larger of the median block maxima just before and just after it
    (outside the recording counts as silence)."""
    env = _block_view(slope, block).max(axis=1)
    padded = np.concatenate((np.zeros(context), env, np.zeros(context)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, context)
    before = np.median(windows[:len(env)], axis=1)
    after = np.median(windows[context + 1:context + 1 + len(env)], axis=1)
    return np.maximum(before, after)


def _undone(d: np.ndarray, n: int, undo: int) -> bool:
    """Whether the jump at ``n`` is reversed, or reverses one, within ``undo`` samples
    (an impulse: a click)."""
    near = np.concatenate((d[max(0, n - undo):n], d[n + 1:n + 1 + undo]))
    return bool(np.any(-np.sign(d[n]) * near >= 0.5 * abs(d[n])))


# ---------------------------------------------------------------------------- noise_burst

def noise_burst(src: Waveform | np.ndarray, sample_rate: int | None = None, *,
                step_db: float = 12.0, min_s: float = 0.012, max_s: float = 1.2,
                line_db: float = 6.0, hum_min_s: float = 0.8) -> list[DefectEvent]:
    """Noise added to the music: broadband bursts with square edges, and mains hum
    (:mod:`cantata.defects.noise` describes both), on the channels' mean (noise on one
    channel is in the mean too).

    Args:
        src, sample_rate: the audio.
        step_db: a burst lifts three bands above 1 kHz by this much over the loudest frame
            of the 30 ms before it, and drops back as far.
        min_s, max_s: a burst's shortest and longest span.
        line_db: a hum line stands this much over its neighbours 4 and 7 Hz away.
        hum_min_s: hum lasts at least this long.

    Returns:
        ``noise_burst`` events; confidence from the lift: a burst's over the music
        (``lift / 30`` dB), a hum line's over its neighbourhood (``lift / 20`` dB).
    """
    samples, sr = as_channels(src, sample_rate)
    mono = samples.mean(axis=0)
    b_start, b_end, b_lift = noise.broadband_bursts(mono, sr, step_db=step_db, min_s=min_s,
                                                    max_s=max_s)
    h_start, h_end, h_lift = noise.mains_hum(mono, sr, line_db=line_db, min_s=hum_min_s)
    return merge_events(_events("noise_burst", b_start, b_end, b_lift / 30, sr)
                        + _events("noise_burst", h_start, h_end, h_lift / 20, sr))


# ---------------------------------------------------------------------------- all rules

#: each rule by the defect type it finds
RULES: dict[str, Callable[..., list[DefectEvent]]] = {
    "click": click, "dropout": dropout, "clipping": clipping,
    "noise_burst": noise_burst, "discontinuity": discontinuity, "dc_offset": dc_offset,
}


def detect(src: Waveform | np.ndarray, sample_rate: int | None = None, *,
           types: Sequence[str] | None = None) -> list[DefectEvent]:
    """Run the rules of ``types`` (default: every rule) on one input, then :func:`resolve`
    what one defect made several rules find; events sorted by start.

    Raises:
        ConfigError: a type no rule finds (``codec`` has none).
    """
    wave = Waveform(*as_channels(src, sample_rate))
    unknown = sorted(set(types or ()) - set(RULES))
    if unknown:
        raise ConfigError(f"no rule finds {', '.join(unknown)}; rules: {', '.join(RULES)}")
    return resolve([e for kind in (types or RULES) for e in RULES[kind](wave)])


#: seconds of the previous block each block is examined with (the widest rule context:
#: the DC window, and the dropout's context)
BLOCK_CONTEXT_S = 1.5


class BlockRules:
    """:func:`detect` over a recording that arrives in consecutive blocks (one rate), in
    bounded memory: each block is examined with the last ``context_s`` of the audio before
    it; events lying wholly in that context were the previous block's, and events of one
    type that overlap across a boundary merge. Times are from the start of the first block.

    ``find`` replaces :func:`detect` (e.g. the candidate verifier's scored candidates, which
    are kept apart, unmerged, with ``merge=False``).

    Call :meth:`push` for every block, then read :meth:`events`.
    """

    def __init__(self, *, types: Sequence[str] | None = None,
                 context_s: float = BLOCK_CONTEXT_S,
                 find: Callable[[Waveform], list[DefectEvent]] | None = None,
                 merge: bool = True) -> None:
        self.context_s, self.merge = context_s, merge
        self.find = find or (lambda wave: detect(wave, types=types))
        self._found: list[DefectEvent] = []
        self._tail: np.ndarray | None = None
        self._tail_start_s = 0.0

    def push(self, block: Waveform) -> None:
        """Examine one more block."""
        rate, tail, start_s = block.sample_rate, self._tail, self._tail_start_s
        x = block.samples if tail is None else np.concatenate([tail, block.samples], axis=1)
        own_s = start_s + (0.0 if tail is None else tail.shape[1] / rate)
        for e in self.find(Waveform(x, rate)):
            if start_s + e.end_s >= own_s:
                self._found.append(DefectEvent(e.type, start_s + e.start_s, start_s + e.end_s,
                                               e.confidence))
        keep = min(x.shape[1], round(self.context_s * rate))
        self._tail = x[:, x.shape[1] - keep:]
        self._tail_start_s = start_s + (x.shape[1] - keep) / rate

    def events(self) -> list[DefectEvent]:
        """Everything found so far, sorted by start."""
        if not self.merge:
            return sorted(self._found, key=lambda e: (e.start_s, e.type))
        return merge_events(self._found)


def detect_blocks(blocks: Iterable[Waveform], *, types: Sequence[str] | None = None,
                  context_s: float = BLOCK_CONTEXT_S) -> list[DefectEvent]:
    """:func:`detect` over consecutive blocks of one recording (see :class:`BlockRules`)."""
    rules = BlockRules(types=types, context_s=context_s)
    for block in blocks:
        rules.push(block)
    return rules.events()


def resolve(events: Iterable[DefectEvent], *, edge_s: float = 0.02, short_s: float = 0.1,
            same_s: float = 0.002) -> list[DefectEvent]:
    """One defect, one event: drop what a defect of another type made a rule find.

    - A ``click`` or ``discontinuity`` event shorter than ``short_s`` within ``edge_s`` of
      an edge of a ``dropout`` or a ``dc_offset`` is that edge (a step), and goes.
    - A ``click`` or ``discontinuity`` inside a ``clipping`` event (``edge_s`` either side)
      is a clipped peak's corner, and goes.
    - A ``click`` starting within ``same_s`` of a ``discontinuity`` is the jump, and goes;
      a ``discontinuity`` inside a ``click`` event starting elsewhere (a crackle's pulse
      that does not come back) goes.
    """
    events = list(events)
    edges = np.array([t for e in events if e.type in ("dropout", "dc_offset")
                      for t in (e.start_s, e.end_s)])
    clipped = [e for e in events if e.type == "clipping"]
    kept = [e for e in events if not (e.type in ("click", "discontinuity") and (
        (e.end_s - e.start_s < short_s
         and np.any((edges >= e.start_s - edge_s) & (edges <= e.end_s + edge_s)))
        or any(c.start_s - edge_s <= e.start_s and e.end_s <= c.end_s + edge_s
               for c in clipped)))]
    jumps = [e for e in kept if e.type == "discontinuity"]
    clicks = [e for e in kept if e.type == "click"]

    def overlapping(e: DefectEvent, others: list[DefectEvent]) -> list[DefectEvent]:
        return [o for o in others if o.start_s <= e.end_s + same_s
                and e.start_s <= o.end_s + same_s]

    drop = {id(c) for c in clicks for j in overlapping(c, jumps)
            if abs(c.start_s - j.start_s) <= same_s}
    drop |= {id(j) for j in jumps for c in overlapping(j, clicks)
             if abs(c.start_s - j.start_s) > same_s}
    return sorted((e for e in kept if id(e) not in drop), key=lambda e: (e.start_s, e.type))
