"""Short-time Fourier transform and its inverse, batched over any leading dimensions.

Conventions match librosa 0.11: periodic windows (``scipy.signal.get_window(...,
fftbins=True)``), a window shorter than ``n_fft`` is zero-padded on both sides, and with
``center=True`` the signal is zero-padded by ``n_fft // 2`` on each side so that frame
``t`` is centred on sample ``t * hop_length``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from cantata.errors import ConfigError, ShapeError

_WINDOW_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "hann": torch.hann_window,
    "hamming": torch.hamming_window,
    "blackman": torch.blackman_window,
}

WINDOWS: tuple[str, ...] = tuple(_WINDOW_FUNCTIONS)
"""Names of the windows :func:`stft` and :func:`istft` accept."""


def window_tensor(
    window: str, win_length: int, *, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """Build a periodic analysis window, as ``scipy.signal.get_window(window, win_length)``.

    Args:
        window: one of :data:`WINDOWS`.
        win_length: window length in samples.
        dtype: real floating dtype of the result.
        device: device of the result.

    Returns:
        Tensor of shape (win_length,).

    Raises:
        ConfigError: unknown window name.
    """
    if window not in _WINDOW_FUNCTIONS:
        raise ConfigError(f"window must be one of {list(WINDOWS)}, got {window!r}")
    return _WINDOW_FUNCTIONS[window](win_length, periodic=True, dtype=dtype, device=device)


def _real_float(wav: torch.Tensor) -> torch.Tensor:
    if wav.dtype in (torch.float32, torch.float64):
        return wav
    return wav.to(torch.float32)


def stft(
    wav: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
) -> torch.Tensor:
    """Complex STFT of real signals, as ``librosa.stft`` with its default zero padding.

    Args:
        wav: real signals, shape (..., time). float32 and float64 are kept; any other
            dtype is converted to float32.
        n_fft: FFT size in samples.
        hop_length: samples between successive frames.
        win_length: window length in samples (None: ``n_fft``).
        window: window name, one of :data:`WINDOWS`.
        center: zero-pad ``n_fft // 2`` samples on each side so frames are centred.

    Returns:
        Complex tensor of shape (..., n_fft // 2 + 1, frames), complex64 for float32
        input and complex128 for float64; ``frames = 1 + time // hop_length`` when
        ``center`` is set, else ``1 + (time - n_fft) // hop_length``.

    Raises:
        ShapeError: ``wav`` has no time axis, no samples, or (``center=False``) fewer
            samples than ``n_fft``.
        ConfigError: unknown window name.
    """
    if wav.ndim < 1 or wav.shape[-1] == 0:
        raise ShapeError(f"stft needs a non-empty (..., time) signal, got shape {tuple(wav.shape)}")
    if not center and wav.shape[-1] < n_fft:
        raise ShapeError(
            f"stft with center=False needs at least n_fft={n_fft} samples, "
            f"got shape {tuple(wav.shape)}"
        )
    wav = _real_float(wav)
    win_length = n_fft if win_length is None else win_length
    win = window_tensor(window, win_length, dtype=wav.dtype, device=wav.device)
    lead = wav.shape[:-1]
    spec = torch.stft(
        wav.reshape(-1, wav.shape[-1]),
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=win,
        center=center,
        pad_mode="constant",
        return_complex=True,
    )
    return spec.reshape(*lead, *spec.shape[-2:])


def istft(
    spec: torch.Tensor,
    *,
    hop_length: int,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    length: int | None = None,
) -> torch.Tensor:
    """Inverse of :func:`stft` by weighted overlap-add (needs only the NOLA condition).

    ``n_fft`` is inferred from the frequency axis as ``2 * (freq - 1)``, so an odd
    ``n_fft`` cannot be inverted; use an even one.

    Args:
        spec: complex spectrogram, shape (..., n_fft // 2 + 1, frames).
        hop_length: samples between successive frames, as given to :func:`stft`.
        win_length: window length in samples (None: ``n_fft``), as given to :func:`stft`.
        window: window name, as given to :func:`stft`.
        center: whether :func:`stft` padded the signal, as given to it.
        length: number of samples to return (None: as many as the frames cover). Give
            the original length for exact reconstruction.

    Returns:
        Real tensor of shape (..., time), float32 for complex64 input, float64 for
        complex128.

    Raises:
        ShapeError: ``spec`` is not complex or has fewer than two dimensions.
        ConfigError: unknown window name.
    """
    if not spec.is_complex() or spec.ndim < 2:
        raise ShapeError(
            f"istft needs a complex (..., freq, frames) tensor, got shape {tuple(spec.shape)} "
            f"of dtype {spec.dtype}"
        )
    n_fft = 2 * (spec.shape[-2] - 1)
    win_length = n_fft if win_length is None else win_length
    win = window_tensor(window, win_length, dtype=spec.real.dtype, device=spec.device)
    lead = spec.shape[:-2]
    wav = torch.istft(
        spec.reshape(-1, *spec.shape[-2:]),
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=win,
        center=center,
        length=length,
    )
    return wav.reshape(*lead, wav.shape[-1])
