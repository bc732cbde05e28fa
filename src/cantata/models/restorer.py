"""The restorer: a small causal CRNN predicting a noise-suppression mask on the STFT.

Input: the log power of the linear STFT magnitude, one frame at a time (any number of
frames, with the state of the frames before); output: a mask in [0, 1] per bin and frame
(an ideal-ratio-mask or phase-sensitive-mask estimate, ``config.mask``). Each frame sees
only itself and earlier frames: a per-frame encoder, a causal convolution over time, a
GRU and a per-frame decoder, so the algorithmic latency is the STFT window
(``n_fft / sample_rate``: 32 ms by default). The state (the convolution's past frames,
the GRU's hidden state) carries across calls, so a stream processed in blocks gives the
same mask as the whole signal at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cantata.errors import ConfigError, ShapeError
from cantata.models.registry import register

#: mask kinds the restorer predicts
RESTORER_MASKS = ("irm", "psm")

RestorerState = tuple[torch.Tensor, torch.Tensor]
"""(convolution history (batch, hidden, kernel - 1), GRU hidden (layers, batch, hidden))."""


@dataclass(frozen=True)
class RestorerConfig:
    """The restorer's STFT and network.

    Attributes:
        sample_rate: the rate it works at (other rates are resampled to it).
        n_fft: STFT window (periodic Hann) and FFT size; also the algorithmic latency.
        hop_length: STFT hop; ``n_fft / 4`` (the synthesis assumes it).
        hidden: width of the encoder, the convolution and the GRU.
        kernel: frames the causal convolution spans.
        gru_layers: stacked GRU layers.
        mask: ``"irm"`` or ``"psm"``: what the mask was trained to estimate.
    """

    sample_rate: int = 48000
    n_fft: int = 1536
    hop_length: int = 384
    hidden: int = 128
    kernel: int = 3
    gru_layers: int = 2
    mask: str = "irm"

    def __post_init__(self) -> None:
        if self.mask not in RESTORER_MASKS:
            raise ConfigError(f"mask must be one of {list(RESTORER_MASKS)}, got {self.mask!r}")
        if self.n_fft % 4 or self.hop_length != self.n_fft // 4:
            raise ConfigError(f"hop_length must be n_fft / 4 (n_fft a multiple of 4), got "
                              f"n_fft={self.n_fft}, hop_length={self.hop_length}")
        if min(self.hidden, self.kernel, self.gru_layers, self.sample_rate) < 1:
            raise ConfigError("hidden, kernel, gru_layers and sample_rate must be >= 1")

    @property
    def n_freq(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def latency_s(self) -> float:
        """The algorithmic latency: one STFT window."""
        return self.n_fft / self.sample_rate


@register("restorer", RestorerConfig)
class MaskCRNN(nn.Module):
    """Causal CRNN mask estimator (see the module docstring)."""

    def __init__(self, config: RestorerConfig) -> None:
        super().__init__()
        self.config = config
        f, h = config.n_freq, config.hidden
        self.register_buffer("input_mean", torch.full((f,), -10.0))
        self.register_buffer("input_std", torch.ones(f))
        self.encoder = nn.Linear(f, h)
        self.conv = nn.Conv1d(h, h, config.kernel)
        self.gru = nn.GRU(h, h, num_layers=config.gru_layers, batch_first=True)
        self.decoder = nn.Linear(h, f)
        nn.init.constant_(self.decoder.bias, 2.0)  # start near "leave it alone"

    def set_input_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-bin normalisation of :meth:`features`, fitted on data; (freq,) each."""
        self.input_mean.copy_(mean)
        self.input_std.copy_(std.clamp_min(1e-3))

    @staticmethod
    def log_power(mag: torch.Tensor) -> torch.Tensor:
        """log(|X|^2 + 1e-10), the unnormalised input, same shape."""
        return torch.log(mag.pow(2) + 1e-10)

    def initial_state(self, batch: int) -> RestorerState:
        """The state before the first frame: silence."""
        h = self.config.hidden
        device = self.input_mean.device
        return (torch.zeros(batch, h, self.config.kernel - 1, device=device),
                torch.zeros(self.config.gru_layers, batch, h, device=device))

    def forward(self, mag: torch.Tensor, state: RestorerState | None = None
                ) -> tuple[torch.Tensor, RestorerState]:
        """The mask of each bin and frame, and the state after the last frame.

        Shape: mag (batch, freq, frames) -> mask (batch, freq, frames) in [0, 1].
        """
        if mag.ndim != 3 or mag.shape[1] != self.config.n_freq:
            raise ShapeError(f"expected a magnitude (batch, {self.config.n_freq}, frames), "
                             f"got {tuple(mag.shape)}")
        history, hidden = state if state is not None else self.initial_state(mag.shape[0])
        x = (self.log_power(mag).transpose(1, 2) - self.input_mean) / self.input_std
        x = torch.relu(self.encoder(x)).transpose(1, 2)  # (B, H, T)
        x = torch.cat([history, x], dim=2)
        history = x[:, :, x.shape[2] - (self.config.kernel - 1):]
        x = torch.relu(self.conv(x)).transpose(1, 2)  # (B, T, H)
        y, hidden = self.gru(x, hidden)
        mask = torch.sigmoid(self.decoder(y + x)).transpose(1, 2)
        return mask, (history, hidden)


def debug_restorer() -> MaskCRNN:
    """A tiny random restorer for tests (16 kHz, 8 ms window)."""
    return MaskCRNN(RestorerConfig(sample_rate=16000, n_fft=128, hop_length=32, hidden=8,
                                   gru_layers=1))
