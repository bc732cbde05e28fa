"""One window of audio at any sample rate through a mask separator, full band.

The network sees the mixture at its own rate (16 kHz by default), but its masks are
applied to the STFT of the signal at the input's rate: that STFT has the same window
and hop durations as the model's, the masks are interpolated onto its bins and frames,
and bins above the model's band take the mean mask of the model's top band (per frame),
so the high frequencies go to the stems instead of being cut. Optionally the masked
stems are refined by multichannel Wiener filtering (:mod:`cantata.separate.wiener`) on
that STFT, and the first stem's phase made consistent with its magnitudes (the model's
``phase_steps``, :mod:`cantata.separate.phase`). Only the first stem is resynthesised;
the second is the input minus the first, so the stems sum to the input exactly.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from cantata.audio import resample
from cantata.errors import ConfigError, ModelLoadError, ShapeError
from cantata.features import stft
from cantata.models.fusion import fuse_conv_bn
from cantata.models.masks import apply_masks, complement, regrid, to_irm
from cantata.models.registry import load_checkpoint
from cantata.models.separator import MaskUNet
from cantata.separate.phase import two_stems
from cantata.separate.wiener import wiener
from cantata.types import Waveform

#: width of the model's top band whose mean mask extends above the model's Nyquist
TOP_BAND_HZ = 1000.0
#: the top band ends this far below the model's Nyquist (the resampler's transition band)
GUARD_HZ = 500.0


class SpectralSeparator:
    """A loaded mask separator applied to windows of audio.

    Args:
        model: a :class:`~cantata.models.separator.MaskUNet`; an eval-mode copy with
            batch norm folded into the convolutions runs (:mod:`cantata.models.fusion`).
        mask: None to apply the model's own masks, or ``"irm"`` to apply real masks in
            [0, 1] whatever the model predicts (psm clipped, cirm by magnitude): the
            mixture's phase is then kept.

    Attributes:
        stems: names of the outputs, e.g. ``("vocals", "accompaniment")``.
        model_rate: the sample rate the network runs at, in Hz.

    Example:
        >>> sep = SpectralSeparator.from_checkpoint("separator.pt")  # doctest: +SKIP
        >>> stems = sep.separate_window(samples, 44100)  # doctest: +SKIP
        >>> stems.shape  # samples (channels, time) -> (stems, channels, time)  # doctest: +SKIP
    """

    def __init__(self, model: MaskUNet, *, mask: str | None = None, wiener: int = 0) -> None:
        if not isinstance(model, MaskUNet):
            raise ConfigError(f"SpectralSeparator needs a MaskUNet, got {type(model).__name__}")
        if mask not in (None, model.config.mask, "irm"):
            allowed = " or ".join(repr(k) for k in sorted({model.config.mask, "irm"}))
            raise ConfigError(f"mask {mask!r}: this model predicts {model.config.mask} masks; "
                              f"use {allowed}, or leave the mask out")
        if isinstance(wiener, bool) or not isinstance(wiener, int) or wiener < 0:
            raise ConfigError(f"wiener iterations must be an int >= 0, got {wiener!r}")
        self.wiener = wiener
        self.model = fuse_conv_bn(model)
        self.features = model.config.features
        self.stems: tuple[str, ...] = model.config.stems
        self.model_rate: int = self.features.sample_rate
        self.mask = mask or model.config.mask
        self.phase_steps = model.config.phase_steps

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], *, mask: str | None = None,
                        wiener: int = 0, map_location: str | torch.device = "cpu"
                        ) -> SpectralSeparator:
        """Load a separator checkpoint (``weights_only``) and wrap it (``mask`` and
        ``wiener`` as in the class).

        Raises:
            ModelLoadError: unreadable file, or a checkpoint of another kind of model.
        """
        model, checkpoint = load_checkpoint(path, map_location=map_location)
        if not isinstance(model, MaskUNet):
            raise ModelLoadError(f"{path}: not a separator checkpoint ({checkpoint.name!r})")
        return cls(model, mask=mask, wiener=wiener)

    def separate_window(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """Separate one window.

        Args:
            samples: float32 (channels, time) at ``rate``.
            rate: sample rate of ``samples`` in Hz.

        Returns:
            float32 (stems, channels, time) at ``rate``, in :attr:`stems` order.

        Raises:
            ShapeError: ``samples`` is not a non-empty (channels, time) array.
        """
        samples = np.asarray(samples)
        if samples.ndim != 2:
            raise ShapeError(f"separate_window needs (channels, time), got {samples.shape}")
        return self.separate_batch(samples[None], rate)[0]

    def separate_batch(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """Separate equally long windows at once.

        Shape: (batch, channels, time) float32 -> (batch, stems, channels, time) float32.

        Raises:
            ShapeError: ``samples`` is not a non-empty (batch, channels, time) array.
        """
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if samples.ndim != 3 or 0 in samples.shape:
            raise ShapeError(f"separate_batch needs (batch, channels, time), got {samples.shape}")
        batch, channels, n = samples.shape
        f = self.features
        with torch.inference_mode():
            x = torch.from_numpy(samples)
            low = x if rate == self.model_rate else torch.from_numpy(
                resample(Waveform(samples.reshape(batch * channels, n), rate),
                         self.model_rate).samples).reshape(batch, channels, -1)
            spec = stft(low, n_fft=f.n_fft, hop_length=f.hop_length, window=f.window,
                        center=f.center)  # (B, C, F, T) at the model rate
            mask = self.model.mask(spec.abs())
            mask = to_irm(mask) if self.mask != self.model.config.mask else mask
            hop = f.hop_length
            if rate != self.model_rate:
                n_fft, hop = native_grid(f.n_fft, f.hop_length, self.model_rate, rate)
                spec = stft(x, n_fft=n_fft, hop_length=hop, window=f.window, center=f.center)
                mask = self._regrid(mask, spec.shape[-2], spec.shape[-1], n_fft, hop, rate)
            masked = spec * mask if not self.wiener else \
                wiener(spec, apply_masks(spec, complement(mask)), self.wiener)[:, 0]
            out = two_stems(masked, x, self.phase_steps, hop_length=hop, window=f.window,
                            center=f.center)  # (B, S, C, N)
        return out.numpy()

    def _regrid(self, mask: torch.Tensor, n_bins: int, n_frames: int, n_fft: int, hop: int,
                rate: int) -> torch.Tensor:
        """The model-grid mask on the native grid: (B, C, F, T) -> (B, C, n_bins, n_frames)."""
        f = self.features
        model_bin_hz = self.model_rate / f.n_fft
        freq_pos = torch.arange(n_bins, dtype=torch.float64) * (rate / n_fft) / model_bin_hz
        frame_pos = (torch.arange(n_frames, dtype=torch.float64) * (hop / rate)
                     * (self.model_rate / f.hop_length))
        nyquist_hz = self.model_rate / 2
        last = int((nyquist_hz - GUARD_HZ) / model_bin_hz)
        first = int((nyquist_hz - GUARD_HZ - TOP_BAND_HZ) / model_bin_hz)
        return regrid(mask, freq_pos, frame_pos, top_band=(first, last))


def native_grid(n_fft: int, hop_length: int, model_rate: int, rate: int) -> tuple[int, int]:
    """(n_fft, hop_length) at ``rate`` with the model's window and hop durations.

    ``n_fft`` is the nearest even size with no prime factor above 7 (fast FFTs).
    """
    target = n_fft * rate / model_rate
    low = max(2, 2 * int(target / 2))
    sizes = [m for m in range(low - 64, low + 66, 2) if m >= 2 and _smooth(m)] or [low]
    return min(sizes, key=lambda m: abs(m - target)), max(1, round(hop_length * rate / model_rate))


def _smooth(n: int) -> bool:
    for p in (2, 3, 5, 7):
        while n % p == 0:
            n //= p
    return n == 1
