"""The frozen feature configuration every model stores beside its weights."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cantata.config import from_mapping
from cantata.errors import ConfigError, ShapeError
from cantata.features.stft import WINDOWS

KINDS: tuple[str, ...] = ("stft_mag", "logmel", "mfcc", "chroma")
"""Feature kinds a :class:`FeatureConfig` can describe."""

_INT_FIELDS = ("sample_rate", "n_fft", "hop_length", "n_mels", "n_mfcc", "n_chroma")
_FLOAT_FIELDS = ("f_min_hz", "amin")
_OPTIONAL_FLOAT_FIELDS = ("f_max_hz", "top_db")


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that decides which features a model sees; equal configs, equal features.

    Attributes:
        kind: one of :data:`KINDS`: "stft_mag" (STFT magnitude), "logmel" (mel power in
            dB), "mfcc" (DCT of the log-mel) or "chroma" (pitch-class energy per frame,
            max-normalised).
        sample_rate: sample rate the features expect, in Hz.
        n_fft: FFT size in samples.
        hop_length: samples between frames (320 at 16 kHz is 20 ms).
        win_length: window length in samples (None: ``n_fft``).
        window: analysis window name (periodic), e.g. "hann".
        center: centre frames on ``t * hop_length`` by zero-padding ``n_fft // 2``.
        n_mels: mel bands (logmel, mfcc).
        f_min_hz: lowest mel band edge, in Hz.
        f_max_hz: highest mel band edge, in Hz (None: Nyquist).
        n_mfcc: cepstral coefficients kept (mfcc).
        n_chroma: pitch classes per octave (chroma).
        amin: power floor before taking the log (logmel, mfcc).
        top_db: if set, log-mel values are clipped to at most this many dB below the
            maximum of each item.
    """

    kind: str = "logmel"
    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 320
    win_length: int | None = None
    window: str = "hann"
    center: bool = True
    n_mels: int = 80
    f_min_hz: float = 0.0
    f_max_hz: float | None = None
    n_mfcc: int = 20
    n_chroma: int = 12
    amin: float = 1e-10
    top_db: float | None = None

    def __post_init__(self) -> None:
        self._check_types()
        if self.kind not in KINDS:
            raise ConfigError(f"kind must be one of {list(KINDS)}, got {self.kind!r}")
        if self.window not in WINDOWS:
            raise ConfigError(f"window must be one of {list(WINDOWS)}, got {self.window!r}")
        for name in _INT_FIELDS:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.win_length is not None and self.win_length <= 0:
            raise ConfigError(f"win_length must be positive, got {self.win_length}")
        if not self.hop_length <= self.effective_win_length <= self.n_fft:
            raise ConfigError(
                "need hop_length <= win_length <= n_fft, got "
                f"hop_length={self.hop_length}, win_length={self.effective_win_length}, "
                f"n_fft={self.n_fft}"
            )
        nyquist_hz = self.sample_rate / 2
        if not 0.0 <= self.f_min_hz < self.effective_f_max_hz <= nyquist_hz:
            raise ConfigError(
                f"need 0 <= f_min_hz < f_max_hz <= sample_rate / 2 = {nyquist_hz}, got "
                f"f_min_hz={self.f_min_hz}, f_max_hz={self.f_max_hz}"
            )
        if self.n_mfcc > self.n_mels:
            raise ConfigError(
                f"n_mfcc must be <= n_mels, got n_mfcc={self.n_mfcc}, n_mels={self.n_mels}"
            )
        if self.amin <= 0:
            raise ConfigError(f"amin must be positive, got {self.amin}")
        if self.top_db is not None and self.top_db < 0:
            raise ConfigError(f"top_db must be None or >= 0, got {self.top_db}")

    def _check_types(self) -> None:
        """Raise ConfigError on a wrongly typed field; store float fields as floats."""
        for name in ("kind", "window"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"{name} must be a string, got {getattr(self, name)!r}")
        if not isinstance(self.center, bool):
            raise ConfigError(f"center must be a bool, got {self.center!r}")
        for name in (*_INT_FIELDS, "win_length"):
            value = getattr(self, name)
            if name == "win_length" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an int, got {value!r}")
        for name in (*_FLOAT_FIELDS, *_OPTIONAL_FLOAT_FIELDS):
            value = getattr(self, name)
            if value is None and name in _OPTIONAL_FLOAT_FIELDS:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{name} must be a number, got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def effective_win_length(self) -> int:
        """Window length in samples, with None resolved to ``n_fft``."""
        return self.n_fft if self.win_length is None else self.win_length

    @property
    def effective_f_max_hz(self) -> float:
        """Highest mel band edge in Hz, with None resolved to Nyquist."""
        return self.sample_rate / 2 if self.f_max_hz is None else self.f_max_hz

    @property
    def frame_rate_hz(self) -> float:
        """Frames per second of the output."""
        return self.sample_rate / self.hop_length

    @property
    def n_features(self) -> int:
        """Number of feature rows per frame for :attr:`kind`."""
        return {
            "stft_mag": self.n_fft // 2 + 1,
            "logmel": self.n_mels,
            "mfcc": self.n_mfcc,
            "chroma": self.n_chroma,
        }[self.kind]

    def n_frames(self, n_samples: int) -> int:
        """Number of frames the extractor returns for ``n_samples`` input samples.

        Raises:
            ShapeError: ``n_samples`` is below 1, or below ``n_fft`` without ``center``.
        """
        if n_samples < 1 or (not self.center and n_samples < self.n_fft):
            minimum = 1 if self.center else self.n_fft
            raise ShapeError(f"need at least {minimum} samples, got {n_samples}")
        if self.center:
            return 1 + n_samples // self.hop_length
        return 1 + (n_samples - self.n_fft) // self.hop_length

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-serialisable dict (inverse of :meth:`from_dict`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureConfig:
        """Build a config from :meth:`to_dict` output; missing keys take their defaults.

        Raises:
            ConfigError: ``d`` has keys that are not fields, or a value is invalid.
        """
        return from_mapping(cls, d)
