"""Synthetic speech with espeak-ng: many languages, accents, voices, speeds and pitches.

The texts come from ``texts/<language>.txt`` next to this module (one sentence per line,
written for Cantata). espeak-ng is the Debian package of that name; it is run as a subprocess
that writes a WAV file to its standard output.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import shutil
import subprocess
from importlib import resources

import numpy as np
import soundfile as sf

from cantata.audio import resample
from cantata.errors import CantataError, ConfigError
from cantata.types import Waveform

logger = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
INSTALL_HINT = "install the Debian package espeak-ng (make test / scripts/setup.sh train does it)"

#: espeak-ng voices (accents) to read each text language with.
ACCENTS: dict[str, tuple[str, ...]] = {
    "en": ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc"),
    "es": ("es", "es-419"),
    "fr": ("fr-fr", "fr-be", "fr-ch"),
    "pt": ("pt", "pt-br"),
}

#: espeak-ng voice variants (``voice+variant``) that sound like people, not robots or effects.
SPEECH_VARIANTS: tuple[str, ...] = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
    "croak", "whisper", "whisperf", "klatt", "klatt2", "klatt3", "klatt4",
    "Alicia", "Andrea", "Andy", "Annie", "aunty", "belinda", "benjamin", "boris", "caleb",
    "david", "ed", "edward", "grandma", "grandpa", "gustave", "iven", "john", "linda", "max",
    "michel", "norbert", "paul", "pedro", "quincy", "rob", "robert", "steph", "travis", "victor",
    "zac",
)

SPEED_RANGE_WPM = (80, 450)
PITCH_RANGE = (0, 99)
_TRIM_DB = 50.0  # audio quieter than this below the loudest 10 ms counts as silence
_TRIM_MARGIN_S = 0.02
_FADE_S = 0.03


def speak(
    text: str, *, voice: str = "en-us", speed_wpm: int = 160, pitch: int = 50,
    sample_rate: int = 22050,
) -> Waveform:
    """Speak ``text`` with espeak-ng, trimmed of leading and trailing silence.

    Args:
        text: what to say (UTF-8; several sentences are fine).
        voice: an espeak-ng voice, optionally with a variant: ``"de"``, ``"en-gb+f3"``.
        speed_wpm: speaking rate in words per minute, 80..450.
        pitch: espeak-ng base pitch, 0..99 (50 is the voice's default).
        sample_rate: rate of the result in Hz.

    Returns:
        Mono waveform, samples shape (1, time), at ``sample_rate``.

    Raises:
        CantataError: espeak-ng is missing or fails, the voice or variant is unknown, or the
            text gives no sound. ConfigError (a CantataError) for out-of-range numbers.
    """
    _check_range("speed_wpm", speed_wpm, SPEED_RANGE_WPM)
    _check_range("pitch", pitch, PITCH_RANGE)
    _check_variant(voice)
    if not text.strip():
        raise CantataError("speak(): text is empty")
    cmd = [_espeak_path(), "--stdout", "-b", "1", "-v", voice, "-s", str(int(speed_wpm)),
           "-p", str(int(pitch))]
    proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, check=False)
    if proc.returncode != 0 or len(proc.stdout) <= 44:
        err = proc.stderr.decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        raise CantataError(f"espeak-ng failed with voice {voice!r}: {err}")
    samples, rate = sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=True)
    wav = Waveform(_trim_silence(samples.mean(axis=1), rate)[np.newaxis, :], rate)
    if wav.n_samples == 0:
        raise CantataError(f"espeak-ng gave silence for {text[:40]!r} with voice {voice!r}")
    return resample(wav, sample_rate)


def random_speech(
    rng: np.random.Generator, *, sample_rate: int, max_duration_s: float = 8.0,
) -> tuple[Waveform, dict]:
    """Speech of 1 to 3 sentences in a random language, accent, voice, speed and pitch.

    Sentences are spoken one by one and joined with pauses of 0.15..0.5 s; sentences that
    would pass ``max_duration_s`` are left out, and a first sentence that is itself too long
    is cut with a short fade. Deterministic given the state of ``rng``.

    Args:
        rng: the source of every random choice.
        sample_rate: rate of the result in Hz.
        max_duration_s: longest result in seconds.

    Returns:
        (mono waveform (1, time), metadata) where metadata is JSON-able: ``text``,
        ``sentences``, ``language``, ``voice``, ``variant``, ``speed_wpm``, ``pitch``,
        ``sentences_s`` (start, end of each sentence in seconds), ``truncated``.
    """
    if max_duration_s <= 0:
        raise ConfigError(f"max_duration_s must be positive, got {max_duration_s}")
    language = str(rng.choice(available_languages()))
    accent = str(rng.choice(ACCENTS.get(language, (language,))))
    variant = str(rng.choice(SPEECH_VARIANTS)) if rng.random() < 0.85 else ""
    voice = f"{accent}+{variant}" if variant else accent
    speed, pitch = int(rng.integers(110, 221)), int(rng.integers(20, 81))
    lines = load_texts(language)
    n_sentences = int(rng.integers(1, 4))
    picked = [lines[i] for i in rng.choice(len(lines), size=n_sentences, replace=False)]
    pauses = rng.uniform(0.15, 0.5, size=n_sentences)
    clips = [speak(s, voice=voice, speed_wpm=speed, pitch=pitch, sample_rate=sample_rate)
             for s in picked]
    samples, spans, truncated = _join_sentences(clips, pauses, sample_rate, max_duration_s)
    used = picked[: len(spans)]
    meta = {
        "text": " ".join(used), "sentences": used, "language": language, "voice": voice,
        "variant": variant, "speed_wpm": speed, "pitch": pitch, "sentences_s": spans,
        "truncated": truncated,
    }
    logger.debug("random_speech: %s, %.2f s", voice, samples.size / sample_rate)
    return Waveform(samples[np.newaxis, :], sample_rate), meta


def available_languages() -> list[str]:
    """The languages with texts in the repository, as espeak-ng codes, sorted."""
    return sorted(p.name[:-4] for p in _texts_dir().iterdir() if p.name.endswith(".txt"))


@functools.cache
def load_texts(language: str) -> tuple[str, ...]:
    """The sentences of ``texts/<language>.txt``, blank lines skipped.

    Raises:
        ConfigError: there is no text file for ``language``.
    """
    path = _texts_dir() / f"{language}.txt"
    if not path.is_file():
        raise ConfigError(f"no texts for language {language!r}; have {available_languages()}")
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def espeak_variants() -> frozenset[str]:
    """The voice variants this espeak-ng knows (the names after ``+``; case matters)."""
    return _variants_of(_espeak_path())


def _join_sentences(
    clips: list[Waveform], pauses: np.ndarray, sample_rate: int, max_duration_s: float,
) -> tuple[np.ndarray, list[list[float]], bool]:
    """Join clips with pauses up to ``max_duration_s``: (samples, spans_s, first cut short)."""
    limit = int(max_duration_s * sample_rate)
    parts: list[np.ndarray] = []
    spans: list[list[float]] = []
    pos = 0
    for k, clip in enumerate(clips):
        gap = int(pauses[k] * sample_rate) if k else 0
        if k and pos + gap + clip.n_samples > limit:
            break
        piece = clip.samples[0][: limit - pos - gap]
        if piece.size < clip.n_samples:
            fade = min(int(_FADE_S * sample_rate), piece.size)
            piece = piece.copy()
            piece[piece.size - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        parts += [np.zeros(gap, np.float32), piece]
        spans.append([round((pos + gap) / sample_rate, 4),
                      round((pos + gap + piece.size) / sample_rate, 4)])
        pos += gap + piece.size
    return np.concatenate(parts), spans, parts[1].size < clips[0].n_samples


def _trim_silence(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cut leading and trailing audio more than 50 dB below the loudest 10 ms (plus 20 ms)."""
    hop = max(1, sample_rate // 100)
    n = samples.size // hop
    if n == 0:
        return samples[:0]
    rms = np.sqrt(np.mean(samples[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-20)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > -_TRIM_DB) if rms.max() > 1e-6 else []
    if len(loud) == 0:
        return samples[:0]
    margin = int(_TRIM_MARGIN_S * sample_rate)
    start = max(0, loud[0] * hop - margin)
    return samples[start: min(samples.size, (loud[-1] + 1) * hop + margin)]


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    if not bounds[0] <= value <= bounds[1]:
        raise ConfigError(f"{name} must be in {bounds[0]}..{bounds[1]}, got {value}")


def _check_variant(voice: str) -> None:
    """espeak-ng ignores unknown variants silently; refuse them here."""
    _, plus, variant = voice.partition("+")
    if plus and variant not in espeak_variants():
        raise CantataError(f"unknown espeak-ng voice variant {variant!r} in {voice!r}; "
                           "see `espeak-ng --voices=variant`")


def _espeak_path() -> str:
    path = shutil.which(ESPEAK)
    if path is None:
        raise CantataError(f"{ESPEAK} not found: {INSTALL_HINT}")
    return path


@functools.cache
def _variants_of(espeak: str) -> frozenset[str]:
    proc = subprocess.run([espeak, "--voices=variant"], capture_output=True, check=False)
    if proc.returncode != 0:
        raise CantataError(f"`{ESPEAK} --voices=variant` failed: {INSTALL_HINT}")
    text = proc.stdout.decode("utf-8", "replace")
    return frozenset(m.group(1).strip() for m in re.finditer(r"!v/(\S+(?: \S+)?)", text))


def _texts_dir():
    return resources.files("cantata.data.synth").joinpath("texts")
