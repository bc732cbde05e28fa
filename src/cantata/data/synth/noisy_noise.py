"""Noise for restoration training: real recordings, coloured and non-stationary synthetic
noise, mains hum, tape hiss, room tone, babble, clicks and crackle, phone band-limiting.

Every generator takes a random generator, a length in samples and a rate, and returns a
float32 mono array of unit RMS (clicks and crackle: a peak of 1), so the caller sets the
level. :func:`draw_noise` mixes a random choice of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.signal import butter, sosfilt

from cantata import audio
from cantata.errors import ConfigError

#: stationary or slowly varying noise types, mixed by :func:`draw_noise`
NOISE_TYPES = ("real", "white", "pink", "brown", "nonstationary", "hum", "hiss", "room",
               "babble")
#: impulsive types, added at a peak level relative to the music's peak
IMPULSE_TYPES = ("clicks", "crackle")


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def coloured(rng: np.random.Generator, n: int, rate: int, alpha: float) -> np.ndarray:
    """Noise with a power spectrum falling as 1/f^alpha (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    spec *= np.maximum(freqs, 20.0) ** (-alpha / 2)
    return _unit(np.fft.irfft(spec, n))


def nonstationary(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """Coloured noise under a slowly wandering envelope (0.2-4 Hz) with random bursts."""
    base = coloured(rng, n, rate, float(rng.uniform(0, 2)))
    t = np.arange(n) / rate
    env = 1 + 0.8 * np.sin(2 * np.pi * rng.uniform(0.2, 4) * t + rng.uniform(0, 2 * np.pi))
    for _ in range(int(rng.integers(0, 4))):
        centre, width = rng.uniform(0, t[-1] + 1e-9), rng.uniform(0.05, 0.6)
        env += rng.uniform(1, 4) * np.exp(-0.5 * ((t - centre) / width) ** 2)
    return _unit(base * env)


def hum(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """Mains hum: 50 or 60 Hz and its harmonics (decaying, some buzz), drifting slightly."""
    mains = float(rng.choice([50.0, 60.0])) * (1 + rng.uniform(-0.004, 0.004))
    t = np.arange(n) / rate
    drift = 0.3 * np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * t)
    phase = 2 * np.pi * mains * t + 2 * np.pi * np.cumsum(drift) / rate
    buzz = rng.uniform(0.3, 1.5)
    x = np.zeros(n)
    for k in range(1, int(min(40, rate / 2 // mains))):
        x += k ** (-1.0 / buzz) * rng.uniform(0.3, 1) * np.sin(k * phase + rng.uniform(0, 6.3))
    return _unit(x)


def hiss(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """Tape hiss: white noise tilted up above a few kHz, gently modulated."""
    cut = min(rng.uniform(1500, 5000), 0.45 * rate)
    high = sosfilt(butter(1, cut, "highpass", fs=rate, output="sos"), rng.standard_normal(n))
    x = high + 0.3 * rng.standard_normal(n)
    t = np.arange(n) / rate
    return _unit(x * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.3, 2) * t)))


def room(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """Room tone: brownish rumble low-passed at 200-1500 Hz (air conditioning, traffic)."""
    x = coloured(rng, n, rate, float(rng.uniform(1, 2)))
    return _unit(sosfilt(butter(2, rng.uniform(200, 1500), fs=rate, output="sos"), x))


def impulses(rng: np.random.Generator, n: int, rate: int, *, dense: bool) -> np.ndarray:
    """Clicks (0.5-20 per second, 0.05-1.5 ms, full peak) or crackle (50-500 per second,
    smaller and shorter); a peak of 1."""
    per_s = rng.uniform(50, 500) if dense else rng.uniform(0.5, 20)
    count = max(1, int(rng.poisson(per_s * n / rate)))
    x = np.zeros(n)
    for pos in rng.integers(0, n, count):
        width = max(1, int(rate * rng.uniform(5e-5, 3e-4 if dense else 1.5e-3)))
        shape = np.hanning(width + 2)[1:-1] * rng.choice([-1, 1]) * rng.standard_normal(width)
        level = rng.uniform(0.05, 0.5) if dense else rng.uniform(0.3, 1.0)
        end = min(n, pos + width)
        x[pos:end] += level * shape[: end - pos] / (np.abs(shape).max() + 1e-12)
    return (x / (np.abs(x).max() + 1e-12)).astype(np.float32)


def phone_band(x: np.ndarray, rate: int, *, low: float = 300.0, high: float = 3400.0
               ) -> np.ndarray:
    """``x`` (any leading axes, time last) band-limited as a telephone line (4th order)."""
    sos = butter(4, [low, min(high, 0.45 * rate)], "bandpass", fs=rate, output="sos")
    return sosfilt(sos, x, axis=-1).astype(np.float32)


class NoiseBank:
    """Real noise recordings and speech for babble, read once and kept at one rate.

    Args:
        noise_files: real noise recordings (any rate; resampled to ``rate``).
        speech_files: speech recordings to make babble from.
        rate: the rate of everything drawn.
    """

    def __init__(self, noise_files: Sequence[str], speech_files: Sequence[str], rate: int
                 ) -> None:
        self.rate = rate
        self.noise = [audio.load(p, sample_rate=rate, mono=True).samples[0] for p in noise_files]
        self.speech_files = list(speech_files)
        self._speech: dict[int, np.ndarray] = {}

    def real(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """A random stretch of a random recording (looped if short)."""
        if not self.noise:
            raise ConfigError("no real noise recordings given")
        rec = self.noise[int(rng.integers(len(self.noise)))]
        reps = -(-n // len(rec)) + 1
        start = int(rng.integers(len(rec)))
        return _unit(np.tile(rec, reps)[start: start + n])

    def babble(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """3-8 talkers at once, each a looped utterance with a random offset."""
        if not self.speech_files:
            raise ConfigError("no speech recordings given for babble")
        x = np.zeros(n)
        for _ in range(int(rng.integers(3, 9))):
            i = int(rng.integers(len(self.speech_files)))
            if i not in self._speech:
                self._speech[i] = audio.load(self.speech_files[i], sample_rate=self.rate,
                                             mono=True).samples[0]
            talk = self._speech[i]
            start = int(rng.integers(len(talk)))
            x += _unit(np.tile(talk, -(-n // len(talk)) + 1)[start: start + n])
        return _unit(x)

    def available(self) -> tuple[str, ...]:
        """The noise types this bank can make."""
        missing = {"real"} if not self.noise else set()
        missing |= {"babble"} if not self.speech_files else set()
        return tuple(t for t in NOISE_TYPES if t not in missing)

    def make(self, kind: str, rng: np.random.Generator, n: int) -> np.ndarray:
        """One noise of type ``kind`` (:data:`NOISE_TYPES` or :data:`IMPULSE_TYPES`)."""
        makers: dict[str, Callable[[], np.ndarray]] = {
            "real": lambda: self.real(rng, n),
            "white": lambda: coloured(rng, n, self.rate, 0.0),
            "pink": lambda: coloured(rng, n, self.rate, 1.0),
            "brown": lambda: coloured(rng, n, self.rate, 2.0),
            "nonstationary": lambda: nonstationary(rng, n, self.rate),
            "hum": lambda: hum(rng, n, self.rate),
            "hiss": lambda: hiss(rng, n, self.rate),
            "room": lambda: room(rng, n, self.rate),
            "babble": lambda: self.babble(rng, n),
            "clicks": lambda: impulses(rng, n, self.rate, dense=False),
            "crackle": lambda: impulses(rng, n, self.rate, dense=True),
        }
        if kind not in makers:
            raise ConfigError(f"unknown noise type {kind!r}; known: "
                              f"{', '.join((*NOISE_TYPES, *IMPULSE_TYPES))}")
        return makers[kind]()


def draw_noise(rng: np.random.Generator, bank: NoiseBank, n: int,
               types: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """A unit-RMS mix of 1-3 noise types (of ``types``, default all the bank can make),
    each at a random relative level; returns the noise and the types used."""
    pool = [t for t in (types or bank.available()) if t in bank.available()]
    if not pool:
        raise ConfigError("no noise type available (give real noise or speech, or choose "
                          "synthetic types)")
    chosen = sorted(rng.choice(pool, size=min(len(pool), int(rng.integers(1, 4))),
                               replace=False).tolist())
    mix = sum(10 ** (rng.uniform(-10, 0) / 20) * bank.make(t, rng, n) for t in chosen)
    return _unit(np.asarray(mix)), chosen
