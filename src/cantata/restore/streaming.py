"""Streaming denoising: the restorer's mask applied frame by frame, with state.

:class:`StreamingDenoiser` takes blocks of any length at the model's rate and returns the
samples finished so far, delayed by :attr:`~StreamingDenoiser.delay` samples (``n_fft - hop``):
a periodic-Hann STFT with a hop of a quarter window, the network's mask turned into a
gain by the strength (:func:`mask_gain`), and overlap-add. Whole files go through the
same code (:meth:`StreamingDenoiser.process_all`), so offline and live output agree.
"""

from __future__ import annotations

import numpy as np
import torch

from cantata.errors import ShapeError
from cantata.models.restorer import MaskCRNN

#: default strength: the model's mask as trained
DEFAULT_STRENGTH = 1.0
#: the most a bin is attenuated (dB): keeps clean music and the ambience natural
DEFAULT_FLOOR_DB = -30.0
#: sum of the squared periodic Hann window over the overlaps of a quarter-window hop
_OLA_NORM = 1.5


def mask_gain(mask: np.ndarray, strength: float = DEFAULT_STRENGTH,
              floor_db: float = DEFAULT_FLOOR_DB) -> np.ndarray:
    """The gain applied to each bin: ``max(mask ** strength, floor)``.

    Strength 0 leaves the input alone, 1 applies the mask as trained, above 1 removes more
    noise at the cost of more artefacts; the floor bounds the attenuation.
    """
    return np.maximum(np.clip(mask, 0.0, 1.0) ** strength, 10 ** (floor_db / 20))


class StreamingDenoiser:
    """A restorer's mask over a stream, state kept between calls.

    Args:
        model: the network (its config gives the rate and the STFT).
        channels: channels of the stream (each masked on its own, batched).
        strength, floor_db: see :func:`mask_gain`.
    """

    def __init__(self, model: MaskCRNN, *, channels: int = 1,
                 strength: float = DEFAULT_STRENGTH, floor_db: float = DEFAULT_FLOOR_DB) -> None:
        self.model = model.eval()
        self.channels, self.strength, self.floor_db = channels, strength, floor_db
        config = model.config
        self.n_fft, self.hop = config.n_fft, config.hop_length
        self.sample_rate = config.sample_rate
        self.window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.n_fft) / self.n_fft)
                       ).astype(np.float32)
        self.reset()

    @property
    def delay(self) -> int:
        """Samples the output lags the input by."""
        return self.n_fft - self.hop

    def reset(self) -> None:
        """Forget the stream: the next block starts a new one."""
        self._input = np.zeros((self.channels, self.n_fft - self.hop), np.float32)
        self._ola = np.zeros((self.channels, self.n_fft), np.float32)
        self._state = self.model.initial_state(self.channels)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Denoise the next samples (channels, time); returns the samples finished so far
        (whole hops: over a stream, as many as came in, :attr:`delay` late)."""
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ShapeError(f"expected a block ({self.channels}, time), got {block.shape}")
        buf = np.concatenate([self._input, block.astype(np.float32)], axis=1)
        n_frames = (buf.shape[1] - self.n_fft) // self.hop + 1 if buf.shape[1] >= self.n_fft \
            else 0
        out = np.zeros((self.channels, n_frames * self.hop), np.float32)
        if n_frames:
            starts = np.arange(n_frames) * self.hop
            frames = buf[:, starts[:, None] + np.arange(self.n_fft)] * self.window  # (C, T, N)
            spec = np.fft.rfft(frames, axis=-1)
            with torch.inference_mode():
                mag = torch.from_numpy(np.abs(spec).astype(np.float32)).transpose(1, 2)
                mask, self._state = self.model(mag, self._state)
            gain = mask_gain(mask.transpose(1, 2).numpy(), self.strength, self.floor_db)
            y = np.fft.irfft(spec * gain, n=self.n_fft, axis=-1).astype(np.float32)
            y *= self.window / _OLA_NORM
            for t in range(n_frames):
                self._ola += y[:, t]
                out[:, t * self.hop: (t + 1) * self.hop] = self._ola[:, : self.hop]
                self._ola = np.concatenate([self._ola[:, self.hop:],
                                            np.zeros((self.channels, self.hop), np.float32)],
                                           axis=1)
        self._input = buf[:, n_frames * self.hop:]
        return out

    def process_all(self, samples: np.ndarray, *, block: int = 480000) -> np.ndarray:
        """A whole signal (channels, time), aligned with it (the delay removed); the stream
        is reset first."""
        self.reset()
        n = samples.shape[1]
        padded = np.concatenate([samples, np.zeros((self.channels, self.delay + self.hop),
                                                   np.float32)], axis=1)
        out = np.concatenate([self.process(padded[:, i: i + block])
                              for i in range(0, padded.shape[1], block)], axis=1)
        return out[:, self.delay: self.delay + n]
