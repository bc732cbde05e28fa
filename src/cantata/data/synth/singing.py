"""Synthetic singing: espeak-ng syllables re-pitched onto a melody with the WORLD vocoder.

How a song is sung:

1. A *voice bank* per (espeak-ng voice, syllable set) is spoken by espeak-ng and analysed once
   with WORLD (dio + stonemask, cheaptrick, d4c) at 22050 Hz and 5 ms frames; it is cached
   per process (:func:`voice_bank`), so a song costs mostly ``pyworld.synthesize``.
2. Each note takes a syllable: its consonant onset keeps its natural length, its vowel is
   time-warped (natural head and end, a slow back-and-forth walk through the steady middle)
   to fill the note, and its release ends the note.
3. F0 is replaced by the note's pitch plus vibrato (delayed on long notes), portamento between
   close notes, attack scoops, detune, drift and jitter. The spectral envelope's frequency axis
   is warped (formant factor) independently of pitch; aperiodicity gets a breathiness floor.
4. Each phrase (notes closer than ``PHRASE_GAP_S``) is synthesized in one WORLD call and put
   at its time; quiet breaths go in some phrase gaps; the result is peak-normalised.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from cantata.audio import resample
from cantata.data.synth.score import Note
from cantata.data.synth.speech import ACCENTS, available_languages, load_texts, speak
from cantata.errors import CantataError, ConfigError
from cantata.types import Waveform

logger = logging.getLogger(__name__)

FRAME_MS = 5.0
WORLD_RATE = 22050  # espeak-ng's own rate: WORLD analyses and synthesizes at it
PHRASE_GAP_S = 0.3  # a longer silence between notes ends a phrase (a breath may go there)
LEGATO_GAP_S = 0.1  # notes closer than this glide into each other
#: Comfortable MIDI range of each kind of voice; melodies move by octaves into it.
VOICE_RANGES = {"male": (45.0, 67.0), "female": (55.0, 77.0)}
#: espeak-ng variants that keep a clear voiced source, by the range they sing in.
VARIANTS = {
    "male": ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "klatt", "klatt3", "Andy", "david",
             "john", "max", "paul", "rob", "victor"),
    "female": ("f1", "f2", "f3", "f4", "f5", "Alicia", "Annie", "belinda", "linda", "steph",
               "Andrea"),
}
VOCALISE = {
    "en": ("lah", "nah", "mah", "dah", "doo", "loo", "noo", "lee", "nee", "ah", "ooh", "bah"),
    "": ("la", "na", "ma", "da", "lo", "no", "mo", "do", "li", "mi", "lu", "ne"),
}
N_LYRIC_WORDS = 12  # syllables per bank: a song draws from these; fewer = cheaper analysis

_SPEAK_WPM = 120  # slow syllables give long steady vowels
_FFT = 1024
_AP_STEP = 3  # analysis FFT; synthesis keeps every other bin (FFT 512: half the cost)
_VOWEL_DB = 9.0  # vowel = longest voiced run within this many dB of the loudest frame
_MIN_VOWEL = 8  # frames
_MAX_ONSET = 24  # frames of consonant kept before the vowel
_MAX_RELEASE = 24  # frames kept after it
_FPS = 1000.0 / FRAME_MS  # frames per second
_TREMOLO_DB_PER_CENT = 0.04  # level swing (dB) per cent of vibrato extent
_SILENT = 1e-12  # spectral envelope (power) of silence
_VOWELS = "aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüąęœ"


@dataclass(frozen=True)
class VoiceBank:
    """WORLD parameters of one voice's syllables, concatenated; the last frame is silence.

    Attributes:
        voice: the espeak-ng voice, e.g. ``"it+f2"``.
        texts: the syllables' texts.
        starts: first frame of each syllable; (n_syllables + 1,), the last is the silence row.
        vowels: each syllable's steady vowel as absolute frames [start, end); (n_syllables, 2).
        sp: spectral envelope, power, float32, (frames, 257) (FFT 512 bins at 22050 Hz).
        ap: aperiodicity 0..1, float32, (frames, 257).
        voiced: whether each frame is voiced (gets the melody's F0); (frames,) bool.
    """

    voice: str
    texts: tuple[str, ...]
    starts: np.ndarray
    vowels: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    voiced: np.ndarray


class _Syllable(NamedTuple):
    """One analysed syllable, cropped to onset + vowel + release."""

    text: str
    sp: np.ndarray  # (frames, 257) power, the vowel's median frame summing to 1
    ap: np.ndarray  # (frames, 257)
    voiced: np.ndarray  # (frames,) bool
    vowel: tuple[int, int]  # steady vowel frames [start, end)


@dataclass(frozen=True)
class _Style:
    """The random choices that hold for a whole song."""

    gender: str
    formant: float  # spectral-envelope frequency factor (>1: shorter vocal tract)
    tilt_db: float  # brightness: level change per octave above 1 kHz
    breathiness: float  # aperiodicity floor at the top of the spectrum
    vib_rate_hz: float
    vib_depth_cents: float  # peak-to-peak
    vib_delay_s: float
    glide_s: float
    scoop_prob: float
    peak_dbfs: float


def sing(
    melody: Sequence[Note], rng: np.random.Generator, *, sample_rate: int = 22050,
    language: str | None = None,
) -> tuple[Waveform, dict]:
    """Sing ``melody`` with a random espeak-ng voice re-pitched by WORLD.

    Sample 0 is time 0 of the melody: before the first note and between phrases there is
    silence (or a quiet breath, listed in ``meta["breaths_s"]``). Notes that overlap are sung
    one after the other (each ends where the next starts). The F0 follows the notes shifted by
    ``meta["transpose_semitones"]`` (whole octaves that bring the melody into the voice's range).

    Args:
        melody: notes with absolute start times in seconds.
        rng: the source of every random choice; the same state gives the same audio.
        sample_rate: rate of the result in Hz.
        language: espeak-ng language of the syllables (one of ``available_languages()``);
            random if None.

    Returns:
        (mono waveform (1, time) covering the last note's end, metadata): JSON-able metadata
        with ``language``, ``voice``, ``variant``, ``gender``, ``syllables`` ("vocalise" or
        "lyrics"), ``lyrics`` (one text per note), ``words`` ([start_s, end_s, text] of each
        sung note, its onset to its release), ``formant_factor``, ``tilt_db_per_octave``,
        ``breathiness``,
        ``vibrato`` (rate_hz, depth_cents_pp, delay_s), ``glide_s``, ``transpose_semitones``,
        ``peak_dbfs``, ``breaths_s`` ([start, end] pairs), ``sample_rate``.

    Raises:
        ConfigError: empty melody, bad note, or a language without texts.
        CantataError: espeak-ng or pyworld is missing.
    """
    notes = _clean_notes(melody)
    language = _pick_language(language, rng)
    voice, variant, kind, style = _pick_voice(language, rng)
    bank = voice_bank(voice, kind)
    shift = _octave_shift(np.array([n.pitch_midi for n in notes]), VOICE_RANGES[style.gender])
    notes = [Note(n.pitch_midi + shift, n.start_s, n.duration_s, n.velocity) for n in notes]
    sp, ap = _restyle(bank, style)
    out = np.zeros(int(np.ceil((notes[-1].end_s + 0.1) * WORLD_RATE)), np.float64)
    words: list[list] = []
    for phrase in _phrases(notes):
        start, samples, sung_words = _render_phrase(phrase, bank, sp, ap, style, rng)
        stop = min(out.size, start + samples.size)
        out[start:stop] += samples[: stop - start]
        words += sung_words
    breaths = _add_breaths(out, notes, rng)
    wav = resample(Waveform(out.astype(np.float32)[np.newaxis, :], WORLD_RATE), sample_rate)
    peak = max(float(np.abs(wav.samples).max()), 1e-9)
    samples = wav.samples * np.float32(10 ** (style.peak_dbfs / 20) / peak)
    meta = _metadata(language, voice, variant, kind, words, style, shift, breaths, sample_rate)
    return Waveform(samples, sample_rate), meta


@functools.lru_cache(maxsize=32)
def voice_bank(voice: str, kind: str) -> VoiceBank:
    """Speak and analyse one voice's syllables (cached per process: ~3 MB each, 32 kept).

    Args:
        voice: espeak-ng voice with variant, e.g. ``"en-us+f3"``.
        kind: ``"vocalise"`` (la, na, doo, ...) or ``"lyrics"`` (short words of the texts).
    """
    if kind not in ("vocalise", "lyrics"):
        raise ConfigError(f"voice_bank(): kind must be 'vocalise' or 'lyrics', got {kind!r}")
    texts = _syllable_texts(_text_language(voice.partition("+")[0]), kind)
    parts = [p for p in (_analyse_syllable(t, voice) for t in texts) if p is not None]
    if not parts:
        raise CantataError(f"no usable syllables from espeak-ng voice {voice!r}")
    starts = np.concatenate([[0], np.cumsum([p.sp.shape[0] for p in parts])])
    bins = parts[0].sp.shape[1]
    logger.debug("voice bank %s/%s: %d syllables, %d frames", voice, kind, len(parts), starts[-1])
    return VoiceBank(
        voice=voice, texts=tuple(p.text for p in parts), starts=starts,
        vowels=np.array([p.vowel for p in parts]) + starts[:-1, None],
        sp=np.concatenate([p.sp for p in parts] + [np.full((1, bins), _SILENT)]).astype(
            np.float32),
        ap=np.concatenate([p.ap for p in parts] + [np.ones((1, bins))]).astype(np.float32),
        voiced=np.concatenate([p.voiced for p in parts] + [np.zeros(1, bool)]),
    )


def _analyse_syllable(text: str, voice: str) -> _Syllable | None:
    """WORLD analysis of one syllable spoken by espeak-ng; None if it has no steady vowel."""
    pw = _pyworld()
    x = speak(text, voice=voice, speed_wpm=_SPEAK_WPM, sample_rate=WORLD_RATE).samples[0]
    x = x.astype(np.float64)
    f0, times = pw.dio(x, WORLD_RATE, f0_floor=60.0, f0_ceil=900.0, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, times, WORLD_RATE)
    level = _frame_level_db(x, f0.size)
    run = _longest_run((f0 > 0) & (level > -_VOWEL_DB))
    if run[1] - run[0] < _MIN_VOWEL:
        return None
    audible = np.flatnonzero(level > -40.0)
    lo = max(run[0] - _MAX_ONSET, audible[0])
    hi = min(run[1] + _MAX_RELEASE, audible[-1] + 1)
    f0, times = np.ascontiguousarray(f0[lo:hi]), np.ascontiguousarray(times[lo:hi])
    sp = pw.cheaptrick(x, f0, times, WORLD_RATE, fft_size=_FFT)[:, ::2]
    coarse = slice(None, None, _AP_STEP)  # aperiodicity changes slowly: analyse every 3rd frame
    ap = pw.d4c(x, f0[coarse].copy(), times[coarse].copy(), WORLD_RATE, threshold=0.0,
                fft_size=_FFT)[:, ::2]
    ap = np.repeat(ap, _AP_STEP, axis=0)[: f0.size]
    vowel = (run[0] - lo, run[1] - lo)
    sp /= np.median(sp[vowel[0]: vowel[1]].sum(axis=1))  # every vowel equally loud
    voiced = f0 > 0
    voiced[vowel[0]: vowel[1]] = True
    return _Syllable(text, sp, ap, voiced, vowel)


def _frame_level_db(x: np.ndarray, n_frames: int) -> np.ndarray:
    """Level (dB re the loudest) of 10 ms around each WORLD frame centre; shape (n_frames,)."""
    hop = int(WORLD_RATE / _FPS)
    padded = np.concatenate([np.zeros(hop), x, np.zeros((n_frames + 1) * hop)])
    blocks = (padded[: (n_frames + 1) * hop].reshape(-1, hop) ** 2).mean(axis=1)
    power = (blocks[:n_frames] + blocks[1: n_frames + 1]) / 2
    level = 10 * np.log10(power + 1e-30)
    return level - level.max()


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """[start, end) of the longest run of True in ``mask``; (0, 0) if none."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    if edges.size == 0:
        return 0, 0
    starts, ends = edges[::2], edges[1::2]
    k = int(np.argmax(ends - starts))
    return int(starts[k]), int(ends[k])


def _syllable_texts(language: str, kind: str) -> tuple[str, ...]:
    """Vocalise syllables, or N_LYRIC_WORDS one-vowel-group words of the language's texts."""
    if kind == "vocalise":
        return VOCALISE.get(language, VOCALISE[""])
    words = sorted({w.lower() for line in load_texts(language) for w in re.findall(r"\w+", line)
                    if 2 <= len(w) <= 6 and len(re.findall(f"[{_VOWELS}]+", w.lower())) == 1})
    pick = np.random.default_rng(zlib.crc32(language.encode())).permutation(len(words))
    return tuple(words[i] for i in sorted(pick[:N_LYRIC_WORDS]))


def _text_language(accent: str) -> str:
    """The text language an espeak-ng voice (accent) reads: ``"en-gb"`` -> ``"en"``."""
    for language, accents in ACCENTS.items():
        if accent in accents:
            return language
    return accent


def _pick_language(language: str | None, rng: np.random.Generator) -> str:
    languages = available_languages()
    if language is None:
        return str(rng.choice(languages))
    if language not in languages:
        raise ConfigError(f"sing(): no texts for language {language!r}; have {languages}")
    return language


def _pick_voice(language: str, rng: np.random.Generator) -> tuple[str, str, str, _Style]:
    """(voice, variant, syllable kind, style): every per-song random choice but the notes'."""
    accent = str(rng.choice(ACCENTS.get(language, (language,))))
    gender = str(rng.choice(["male", "female"]))
    variant = str(rng.choice(VARIANTS[gender]))
    kind = "lyrics" if rng.random() < 0.5 else "vocalise"
    style = _Style(
        gender=gender, formant=float(rng.uniform(0.85, 1.2)), tilt_db=float(rng.uniform(-3, 2)),
        breathiness=float(rng.uniform(0.0, 0.25) ** 2),
        vib_rate_hz=float(rng.uniform(5.0, 7.0)), vib_depth_cents=float(rng.uniform(20, 80)),
        vib_delay_s=float(rng.uniform(0.1, 0.35)), glide_s=float(rng.uniform(0.03, 0.12)),
        scoop_prob=float(rng.uniform(0.0, 0.6)), peak_dbfs=float(rng.uniform(-6.0, -1.0)),
    )
    return f"{accent}+{variant}", variant, kind, style


def _restyle(bank: VoiceBank, style: _Style) -> tuple[np.ndarray, np.ndarray]:
    """The bank's (sp, ap) with formants warped, a spectral tilt and a breathiness floor."""
    bins = bank.sp.shape[1]
    pos = np.minimum(np.arange(bins) / style.formant, bins - 1.0)
    i0 = np.minimum(pos.astype(np.int64), bins - 2)
    w = (pos - i0).astype(np.float32)
    octaves = np.log2(np.maximum(np.arange(bins) * WORLD_RATE / (2 * (bins - 1)), 1000.0) / 1000)
    tilt = (10 ** (style.tilt_db * octaves / 10)).astype(np.float32)
    sp = (bank.sp[:, i0] * (1 - w) + bank.sp[:, i0 + 1] * w) * tilt
    sp[-1] = _SILENT
    ramp = np.clip((np.arange(bins) / (bins - 1) - 0.15) / 0.85, 0.0, 1.0)
    ap = np.maximum(bank.ap, (style.breathiness * np.sqrt(ramp)).astype(np.float32))
    return sp, ap


def _clean_notes(melody: Sequence[Note]) -> list[Note]:
    """Notes sorted by start, each cut to end where the next starts (one voice sings)."""
    notes = sorted(melody, key=lambda n: n.start_s)
    if not notes:
        raise ConfigError("sing(): the melody has no notes")
    if notes[0].start_s < 0 or min(n.duration_s for n in notes) <= 0:
        raise ConfigError("sing(): notes need start_s >= 0 and duration_s > 0")
    out = []
    for note, nxt in zip(notes, notes[1:] + [None], strict=True):
        end = note.end_s if nxt is None else min(note.end_s, nxt.start_s)
        if end - note.start_s >= 2 / _FPS:
            out.append(Note(note.pitch_midi, note.start_s, end - note.start_s, note.velocity))
    return out or notes[-1:]


def _octave_shift(pitches: np.ndarray, midi_range: tuple[float, float]) -> int:
    """Semitones (a multiple of 12) that put most notes in range, the median nearest its middle."""
    low, high = midi_range
    middle = (low + high) / 2

    def score(k: int) -> tuple[float, float]:
        p = pitches + 12 * k
        return float(np.mean((p >= low) & (p <= high))), -abs(float(np.median(p)) - middle)

    return 12 * max(range(-5, 6), key=score)


def _phrases(notes: list[Note]) -> list[list[Note]]:
    """Split sorted notes where the silence between two is longer than PHRASE_GAP_S."""
    phrases = [[notes[0]]]
    for prev, note in zip(notes, notes[1:], strict=False):
        if note.start_s - prev.end_s > PHRASE_GAP_S:
            phrases.append([])
        phrases[-1].append(note)
    return phrases


def _render_phrase(
    notes: list[Note], bank: VoiceBank, sp: np.ndarray, ap: np.ndarray, style: _Style,
    rng: np.random.Generator,
) -> tuple[int, np.ndarray, list[list]]:
    """Synthesize one phrase: (first sample at WORLD_RATE, samples, [start_s, end_s, syllable
    text] per note)."""
    first = int(round(notes[0].start_s * _FPS))
    bounds = [(int(round(n.start_s * _FPS)) - first,
               int(round(n.end_s * _FPS)) - first) for n in notes]
    for k in range(len(bounds) - 1):  # legato: a short gap is sung through
        if bounds[k + 1][0] - bounds[k][1] <= LEGATO_GAP_S * _FPS:
            bounds[k] = (bounds[k][0], bounds[k + 1][0])
    n_frames = bounds[-1][1] + 2
    index, gain_db, texts = _phrase_frames(notes, bounds, n_frames, bank, rng)
    midi, vib_env, vib_phase = _pitch_contour(notes, bounds, n_frames, style, rng)
    gain_db += _TREMOLO_DB_PER_CENT * vib_env * np.cos(vib_phase)  # vibrato brings tremolo
    f0 = np.where(bank.voiced[index], 440.0 * 2 ** ((midi - 69.0) / 12), 0.0)
    frame_sp = sp[index].astype(np.float64) * (10 ** (gain_db / 10))[:, None]
    frame_ap = ap[index].astype(np.float64)
    samples = _pyworld().synthesize(f0, frame_sp, frame_ap, WORLD_RATE, FRAME_MS)
    words = [[round((first + a) / _FPS, 3), round((first + b) / _FPS, 3), text]
             for (a, b), text in zip(bounds, texts, strict=True)]
    return int(round(first / _FPS * WORLD_RATE)), samples, words


def _phrase_frames(
    notes: list[Note], bounds: list[tuple[int, int]], n_frames: int, bank: VoiceBank,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Bank frame index and gain (dB) of every frame of a phrase, and each note's syllable."""
    index = np.full(n_frames, bank.sp.shape[0] - 1)  # the silence row
    gain_db = np.zeros(n_frames)
    texts = []
    sequential = rng.random() < 0.5  # go through the syllables in order, else at random
    offset = int(rng.integers(len(bank.texts)))
    for k, (note, (a, b)) in enumerate(zip(notes, bounds, strict=True)):
        s = (offset + k) % len(bank.texts) if sequential else int(rng.integers(len(bank.texts)))
        texts.append(bank.texts[s])
        index[a:b] = _note_frames(bank, s, b - a)
        gain_db[a:b] = _note_gain_db(
            note, b - a, final=k == len(notes) - 1, legato_in=k > 0 and bounds[k - 1][1] == a,
            legato_out=k + 1 < len(notes) and bounds[k + 1][0] == b, rng=rng)
    return index, gain_db, texts


def _note_frames(bank: VoiceBank, s: int, n: int) -> np.ndarray:
    """Bank frames for an n-frame note sung on syllable s: onset, stretched vowel, release."""
    start, end = int(bank.starts[s]), int(bank.starts[s + 1])
    v0, v1 = (int(v) for v in bank.vowels[s])
    n_onset = min(v0 - start, int(0.35 * n))
    n_release = min(end - v1, int(0.2 * n))
    onset = np.arange(v0 - n_onset, v0)  # a shortened consonant loses its beginning
    release = np.arange(v1, v1 + n_release)
    return np.concatenate([onset, _stretch_vowel(v0, v1, n - n_onset - n_release), release])


def _stretch_vowel(v0: int, v1: int, n: int) -> np.ndarray:
    """n frame indices covering vowel frames [v0, v1): squeezed, or stretched by walking
    back and forth (half speed) through the steady middle half between a natural start and end.
    """
    length = v1 - v0
    if n <= length:
        return np.round(np.linspace(v0, v1 - 1, n)).astype(np.int64)
    quarter = length // 4
    c0, c1 = v0 + quarter, v1 - quarter
    period = 2 * (c1 - c0 - 1)
    pos = (0.5 * np.arange(n - 2 * quarter)) % period
    walk = c0 + np.where(pos <= period / 2, pos, period - pos).astype(np.int64)
    return np.concatenate([np.arange(v0, c0), walk, np.arange(c1, v1)])


def _note_gain_db(
    note: Note, n: int, *, final: bool, legato_in: bool, legato_out: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """Level of each of a note's n frames in dB: velocity, a swell on long notes, and short
    fades in and out where the voice starts or stops (a longer one at a phrase's end).
    """
    u = np.linspace(0.0, 1.0, n)
    gain = np.full(n, 20 * np.log10(max(note.velocity, 0.05) / 0.8))
    swell = rng.uniform(-1.5, 2.5)
    if note.duration_s > 0.5:
        gain += swell * np.sin(np.pi * u)
    if not legato_in and n >= 4:
        fade = min(n // 4, 3)
        gain[:fade] += 20 * np.log10(np.linspace(0.1, 1.0, fade, endpoint=False))
    if not legato_out:
        fade = max(1, min(n // 3, 20 if final else 4))
        gain[n - fade:] += 20 * np.log10(np.linspace(1.0, 0.05, fade))
    return gain


def _pitch_contour(
    notes: list[Note], bounds: list[tuple[int, int]], n_frames: int, style: _Style,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MIDI pitch of every frame of a phrase, and the vibrato's envelope (cents) and phase.

    Each note holds its pitch (plus a small detune) until the next note starts; legato notes
    glide in from the previous pitch, others may scoop up from below. Vibrato fades in after a
    delay on notes longer than 0.3 s; slow drift and fast jitter keep the line alive.
    """
    midi = np.empty(n_frames)
    vib_env = np.zeros(n_frames)
    starts = [a for a, _ in bounds] + [n_frames]
    for k, note in enumerate(notes):
        a, b = bounds[k]
        target = note.pitch_midi + rng.uniform(-0.06, 0.06)
        midi[a: starts[k + 1]] = target
        legato = k > 0 and a == bounds[k - 1][1]
        _attack(midi, a, b - a, legato, midi[a - 1] if k else target, style, rng)
        vib_env[a:b] = _vibrato_envelope(b - a, style, rng)
    rate = style.vib_rate_hz * (1 + 0.04 * _smooth_noise(n_frames, 60, rng))
    phase = 2 * np.pi * np.cumsum(rate) / _FPS + rng.uniform(0, 2 * np.pi)
    cents = vib_env * np.sin(phase) + 5.0 * _smooth_noise(n_frames, 50, rng)
    cents += 2.0 * rng.standard_normal(n_frames)
    return midi + cents / 100, vib_env, phase


def _attack(
    midi: np.ndarray, a: int, n: int, legato: bool, previous: float, style: _Style,
    rng: np.random.Generator,
) -> None:
    """Write a note's first frames into ``midi``: a glide from ``previous`` or a scoop."""
    target = midi[a]
    if legato and abs(target - previous) <= 12:
        frames, start = int(min(style.glide_s * _FPS, 0.2 * n)), previous
    elif rng.random() < style.scoop_prob:
        frames, start = int(min(16, 0.15 * n)), target - rng.uniform(0.2, 0.6)
    else:
        return
    if frames >= 2:
        u = np.linspace(0.0, 1.0, frames, endpoint=False)
        midi[a: a + frames] = start + (target - start) * u * u * (3 - 2 * u)


def _vibrato_envelope(n: int, style: _Style, rng: np.random.Generator) -> np.ndarray:
    """Vibrato extent (cents, peak) over an n-frame note: none on short notes, else a fade-in."""
    depth = 0.5 * style.vib_depth_cents * rng.uniform(0.8, 1.2)
    if n / _FPS < 0.3:
        return np.zeros(n)
    t = np.arange(n) / _FPS
    delay = min(style.vib_delay_s, 0.35 * t[-1])
    return depth * np.clip((t - delay) / 0.15, 0.0, 1.0)


def _smooth_noise(n: int, step: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance noise that changes smoothly over ``step`` frames; shape (n,)."""
    knots = rng.standard_normal(n // step + 2)
    return np.interp(np.arange(n) / step, np.arange(knots.size), knots)


def _add_breaths(out: np.ndarray, notes: list[Note], rng: np.random.Generator) -> list[list]:
    """Add quiet inhalations before some phrases (in place); their [start, end] in seconds."""
    voiced = np.abs(out) > 1e-4
    level = float(np.sqrt(np.mean(out[voiced] ** 2))) if voiced.any() else 0.0
    breaths = []
    prev_end = 0.0
    for phrase in _phrases(notes):
        gap, start = phrase[0].start_s - prev_end, phrase[0].start_s
        prev_end = phrase[-1].end_s
        length, lead = rng.uniform(0.25, 0.5), rng.uniform(0.04, 0.1)
        length = min(length, gap - lead - 0.1)
        if rng.random() > 0.7 or length < 0.15:
            continue
        a = int((start - lead - length) * WORLD_RATE)
        noise = _breath(int(length * WORLD_RATE), rng)
        out[a: a + noise.size] += noise * level * 10 ** (rng.uniform(-32, -22) / 20)
        breaths.append([round(a / WORLD_RATE, 3), round((a + noise.size) / WORLD_RATE, 3)])
    return breaths


def _breath(n: int, rng: np.random.Generator) -> np.ndarray:
    """A unit-RMS inhalation of n samples: band-limited noise with a swelling envelope."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / WORLD_RATE)
    centre = rng.uniform(1200, 2500)
    spec *= np.exp(-0.5 * (np.log(np.maximum(freqs, 50) / centre) / 0.7) ** 2)
    noise = np.fft.irfft(spec, n)
    u = np.linspace(0.0, 1.0, n)
    noise *= np.sin(np.pi * u ** 0.7) ** 2
    return noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)


def _metadata(
    language: str, voice: str, variant: str, kind: str, words: list[list], style: _Style,
    shift: int, breaths: list[list], sample_rate: int,
) -> dict:
    return {
        "language": language, "voice": voice, "variant": variant, "gender": style.gender,
        "syllables": kind, "lyrics": [w[2] for w in words], "words": words,
        "formant_factor": round(style.formant, 4),
        "tilt_db_per_octave": round(style.tilt_db, 2),
        "breathiness": round(style.breathiness, 4),
        "vibrato": {"rate_hz": round(style.vib_rate_hz, 3),
                    "depth_cents_pp": round(style.vib_depth_cents, 2),
                    "delay_s": round(style.vib_delay_s, 3)},
        "glide_s": round(style.glide_s, 3), "transpose_semitones": shift,
        "peak_dbfs": round(style.peak_dbfs, 2), "breaths_s": breaths, "sample_rate": sample_rate,
    }


@functools.cache
def _pyworld():
    """The pyworld module (imported on first use; its pkg_resources warning silenced)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pyworld
    except ImportError as exc:
        raise CantataError("singing needs pyworld: pip install 'cantata[train]'") from exc
    return pyworld
