"""Align the syllables of the lyrics with the syllable evidence of the vocal stem.

A left-to-right hidden Markov model over 10 ms frames, decoded by Viterbi (a monotonic
dynamic program, dynamic time warping of the syllable sequence against the frames):

- states: a pause before every word (and one after the last), then one state per syllable
  of the word; a pause between two words of a line costs :data:`WORD_PAUSE_COST`, a line
  that follows the previous one without a pause :data:`NO_PAUSE_COST` (line breaks are the
  preferred pauses);
- entering a syllable scores the onset evidence of the frame (a syllable-nucleus candidate,
  :meth:`~cantata.lyrics.nuclei.Evidence.candidates`, scores its onset strength; other
  frames on a :data:`GRID_FRAMES` grid are allowed at a low score, so the path exists
  whatever the audio);
- every frame scores how active the voice is: syllables want singing (the vocal stem's
  activity inside the singing detector's regions), pauses want quiet;
- staying in a syllable past an onset candidate costs its strength (syllables go where the
  onsets are), and a state far from where an even spread would put it costs a little per
  frame (a band around the diagonal).

Words start at their first syllable's entry and end where their last syllable is left
(trimmed of quiet frames); lines span their words. :func:`spread` is the fallback and the
baseline: syllables spread evenly over the singing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cantata.lyrics.nuclei import Evidence
from cantata.lyrics.text import Line

#: weights of the evidence: onset at a syllable's entry, activity per frame
ONSET_WEIGHT = 3.0
ACTIVITY_WEIGHT = 0.4
#: cost of a line that follows the previous one without a pause, and of a pause between
#: two words of a line: line breaks are where the singer is expected to pause
NO_PAUSE_COST = 1.5
WORD_PAUSE_COST = 2.0
#: cost of passing a candidate inside a syllable (its onset strength times this): the
#: syllables go where the onsets are, rather than one syllable over many notes
PASS_WEIGHT = 6.0
#: cost per frame of a state more than BAND_S from where an even spread of the syllables
#: over the singing regions would put it, per second beyond (a band around the diagonal,
#: against drifting off the lyrics for long; none without regions)
BAND_S = 3.0
BAND_WEIGHT = 0.01
#: a syllable may start on any frame of this grid (and on every candidate)
GRID_FRAMES = 4
#: onset score floors: a grid frame, and any candidate
GRID_SCORE, CANDIDATE_FLOOR = 0.02, 0.1
#: outside the singing regions the voice's activity counts this much
OUTSIDE_SINGING = 0.15
#: frames a word's end is trimmed back to while the voice is this quiet
QUIET = 0.3
#: frames x states above which the frames are pooled (bounded memory for long songs)
MAX_CELLS = 60_000_000


@dataclass(frozen=True)
class TimedWord:
    """A word with its start and end in seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class TimedLine:
    """A line with its start and end in seconds, and its words."""

    text: str
    start: float
    end: float
    words: tuple[TimedWord, ...]


def singing_mask(regions: Sequence[tuple[float, float]], n_frames: int,
                 hop_s: float) -> np.ndarray:
    """1 on the frames inside the regions ((start_s, end_s) pairs), 0 elsewhere."""
    mask = np.zeros(n_frames)
    for a, b in regions:
        mask[max(0, int(a / hop_s)):max(0, int(np.ceil(b / hop_s)))] = 1.0
    return mask


def align(lines: Sequence[Line], ev: Evidence,
          regions: Sequence[tuple[float, float]]) -> list[TimedLine]:
    """Time every word of ``lines`` in the vocal stem's evidence, within the singing
    ``regions`` ((start_s, end_s) pairs; empty: anywhere the voice sounds)."""
    n_states = sum(ln.syllables + len(ln.words) for ln in lines) + 1
    pool = max(1, int(np.ceil(len(ev) * n_states / MAX_CELLS)))
    activity, onset, candidates = _pooled(ev, regions, pool)
    hop_s = ev.hop_s * pool
    n_frames = activity.size
    kinds, enter, skip = _states(lines)
    entry = np.full(n_frames, -np.inf)
    entry[::GRID_FRAMES] = np.log(GRID_SCORE)
    entry[candidates] = np.log(np.maximum(onset[candidates], CANDIDATE_FLOOR))
    entry *= ONSET_WEIGHT
    passing = np.zeros(n_frames)
    passing[candidates] = PASS_WEIGHT * onset[candidates]
    expected = _expected(lines, kinds, regions, n_frames * hop_s) / hop_s
    path = _viterbi(kinds, enter, skip, entry, passing,
                    ACTIVITY_WEIGHT * np.log(0.02 + 0.98 * activity),
                    ACTIVITY_WEIGHT * np.log(0.02 + 0.98 * (1.0 - activity)),
                    expected, BAND_WEIGHT * hop_s if regions else 0.0, BAND_S / hop_s)
    if path is None:
        return spread(lines, regions, n_frames * hop_s)
    return _timed(lines, kinds, path, activity, hop_s)


def _pooled(ev: Evidence, regions: Sequence[tuple[float, float]],
            pool: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Activity (damped outside the singing), onset evidence and candidate frames, with
    ``pool`` frames taken as one."""
    inside = singing_mask(regions, len(ev), ev.hop_s) if regions else np.ones(len(ev))
    activity = ev.activity * (OUTSIDE_SINGING + (1.0 - OUTSIDE_SINGING) * inside)
    onset = ev.onset * (OUTSIDE_SINGING + (1.0 - OUTSIDE_SINGING) * inside)
    candidates = ev.candidates()
    if pool > 1:
        n = len(ev) // pool * pool or len(ev)
        activity = activity[:n].reshape(-1, pool).mean(axis=1) if n >= pool else activity
        onset = onset[:n].reshape(-1, pool).max(axis=1) if n >= pool else onset
        candidates = np.unique(np.minimum(candidates // pool, activity.size - 1))
    return activity, onset, candidates


def _states(lines: Sequence[Line]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The state chain, a pause before every word then its syllables, and a last pause:
    kind (0 pause, 1 syllable), the cost of entering each pause (:data:`WORD_PAUSE_COST`
    inside a line, 0 at a line break), and the cost of going from a word straight to the
    next one's first syllable, skipping the pause between (:data:`NO_PAUSE_COST` at a line
    break, 0 inside a line; inf where there is no such skip)."""
    kinds, enter, skip = [0], [0.0], [np.inf]
    for n, line in enumerate(lines):
        for i, word in enumerate(line.words):
            if n or i:
                kinds.append(0)
                enter.append(0.0 if i == 0 else WORD_PAUSE_COST)
                skip.append(np.inf)
            for j in range(word.syllables):
                kinds.append(1)
                enter.append(0.0)
                skip.append(np.inf if j or not (n or i) else
                            (NO_PAUSE_COST if i == 0 else 0.0))
    kinds.append(0)
    enter.append(0.0)
    skip.append(np.inf)
    return np.array(kinds, np.int8), np.array(enter), np.array(skip)


def _viterbi(kinds: np.ndarray, enter: np.ndarray, skip: np.ndarray, entry: np.ndarray,
             passing: np.ndarray, sing: np.ndarray, quiet: np.ndarray, expected: np.ndarray,
             band_weight: float, band: float) -> np.ndarray | None:
    """The best state per frame (:func:`_states`' chain), or None when no path fits (more
    syllables than frames to start them on). Scores per frame: ``entry`` into a syllable,
    ``passing`` (a cost) for staying in one, ``sing``/``quiet`` in a syllable/pause, and
    ``band_weight`` per frame a state is beyond ``band`` frames from its ``expected``
    frame."""
    n_states, n_frames = kinds.size, entry.size
    syllable = kinds == 1
    delta = np.full(n_states, -np.inf)
    delta[0] = quiet[0]
    choice = np.zeros((n_frames, n_states), np.uint8)
    for t in range(1, n_frames):
        move = np.full(n_states, -np.inf)
        move[1:] = delta[:-1] + np.where(syllable[1:], entry[t], -enter[1:])
        jump = np.full(n_states, -np.inf)
        jump[2:] = delta[:-2] + entry[t] - skip[2:]
        stay = delta - np.where(syllable, passing[t], 0.0)
        best = np.argmax(np.stack([stay, move, jump]), axis=0)
        choice[t] = best
        delta = np.choose(best, [stay, move, jump])
        delta = delta + np.where(syllable, sing[t], quiet[t])
        delta -= band_weight * np.maximum(np.abs(t - expected) - band, 0.0)
    end = n_states - 1 if np.isfinite(delta[-1]) else (
        n_states - 2 if np.isfinite(delta[-2]) else -1)
    if end < 0:
        return None
    path = np.empty(n_frames, np.int64)
    state = end
    for t in range(n_frames - 1, -1, -1):
        path[t] = state
        state -= int(choice[t, state])
    return path


def _expected(lines: Sequence[Line], kinds: np.ndarray,
              regions: Sequence[tuple[float, float]], duration_s: float) -> np.ndarray:
    """Where each state of the chain would be if the syllables were spread evenly over the
    singing (a pause: where the next syllable would start), in seconds."""
    clock = _clock(regions, duration_s, sum(ln.syllables for ln in lines))
    syllable_index = np.cumsum(kinds == 1) - (kinds == 1)  # syllables before each state
    return np.array([clock(float(k)) for k in syllable_index])


def _timed(lines: Sequence[Line], kinds: np.ndarray, path: np.ndarray,
           activity: np.ndarray, hop_s: float) -> list[TimedLine]:
    """Word and line times from the best state per frame."""
    n_frames = path.size
    first = np.full(kinds.size, -1)
    last = np.full(kinds.size, -1)
    states, at = np.unique(path, return_index=True)
    first[states] = at
    states_r, at_r = np.unique(path[::-1], return_index=True)
    last[states_r] = n_frames - 1 - at_r
    out, state = [], 0
    for line in lines:
        words = []
        for word in line.words:
            state += 1  # past the pause before the word
            a, b = state, state + word.syllables - 1
            start, stop = int(first[a]), int(last[b]) + 1
            while stop - 1 > start and activity[stop - 1] < QUIET:
                stop -= 1
            words.append(TimedWord(word.text, round(start * hop_s, 3),
                                   round(stop * hop_s, 3)))
            state = b + 1  # the pause before the next word
        out.append(TimedLine(line.text, words[0].start, words[-1].end, tuple(words)))
    return out


def spread(lines: Sequence[Line], regions: Sequence[tuple[float, float]],
           duration_s: float) -> list[TimedLine]:
    """Syllables spread evenly over the singing ``regions`` (the whole ``duration_s`` when
    there are none): each word from its first syllable's share to its last's."""
    at = _clock(regions, duration_s, sum(ln.syllables for ln in lines))
    out, k = [], 0
    for line in lines:
        words = []
        for word in line.words:
            start = at(k)
            k += word.syllables
            words.append(TimedWord(word.text, start, max(at(k - 1e-6), start)))
        out.append(TimedLine(line.text, words[0].start, words[-1].end, tuple(words)))
    return out


def _clock(regions: Sequence[tuple[float, float]], duration_s: float,
           n: int) -> Callable[[float], float]:
    """``at(k)``: the time k/n of the way through the singing ``regions`` (the whole
    ``duration_s`` when there are none), in seconds."""
    spans = [(a, b) for a, b in regions if b > a] or [(0.0, max(duration_s, 1e-3))]
    total = sum(b - a for a, b in spans)
    ends = np.cumsum([b - a for a, b in spans])

    def at(k: float) -> float:
        x = total * k / max(n, 1)
        i = min(int(np.searchsorted(ends, x, side="right")), len(spans) - 1)
        return round(float(spans[i][0] + x - (ends[i] - (spans[i][1] - spans[i][0]))), 3)

    return at
