"""Feature extraction from a :class:`FeatureConfig`: the same code for training and inference."""

from __future__ import annotations

import math

import numpy as np
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.features.config import FeatureConfig
from cantata.features.mel import chroma_filterbank, dct_matrix, mel_filterbank
from cantata.features.stft import stft
from cantata.types import Waveform

_FLOAT32_TINY = torch.finfo(torch.float32).tiny


class FeatureExtractor(torch.nn.Module):
    """Computes the features a :class:`FeatureConfig` describes, in float32, batched.

    Matches librosa 0.11 (zero-padded centred STFT, periodic window):

    - ``stft_mag``: ``abs(librosa.stft(...))``.
    - ``logmel``: ``power_to_db(melspectrogram(..., power=2), ref=1.0, amin, top_db)``,
      with the ``top_db`` clip relative to the maximum of each item, not of the batch.
    - ``mfcc``: ``librosa.feature.mfcc(S=logmel, n_mfcc, dct_type=2, norm="ortho")``.
    - ``chroma``: ``chroma_stft(S=abs(stft)**2, tuning=0.0, norm=np.inf)``: each frame
      divided by its maximum; frames whose maximum is below float32's smallest normal
      number are left as they are.

    The filterbanks are non-persistent buffers: they follow ``.to(device)`` but are not
    saved in state dicts, since the config rebuilds them.

    Args:
        config: the features to compute.
    """

    def __init__(self, config: FeatureConfig) -> None:
        super().__init__()
        self.config = config
        if config.kind in ("logmel", "mfcc"):
            mel_fb = mel_filterbank(
                sample_rate=config.sample_rate,
                n_fft=config.n_fft,
                n_mels=config.n_mels,
                f_min_hz=config.f_min_hz,
                f_max_hz=config.f_max_hz,
            )
            self.register_buffer("mel_fb", mel_fb, persistent=False)
        if config.kind == "mfcc":
            dct = dct_matrix(config.n_mfcc, config.n_mels)
            self.register_buffer("dct", dct, persistent=False)
        if config.kind == "chroma":
            chroma_fb = chroma_filterbank(
                sample_rate=config.sample_rate, n_fft=config.n_fft, n_chroma=config.n_chroma
            )
            self.register_buffer("chroma_fb", chroma_fb, persistent=False)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """Compute the features of a batch of signals.

        Args:
            wav: signals at ``config.sample_rate``, shape (..., time); cast to float32.

        Returns:
            float32 tensor of shape (..., config.n_features, config.n_frames(time)).

        Raises:
            ShapeError: ``wav`` has no time axis or too few samples.
        """
        if wav.ndim < 1:
            raise ShapeError(f"features need a (..., time) signal, got shape {tuple(wav.shape)}")
        cfg = self.config
        cfg.n_frames(wav.shape[-1])  # raises ShapeError if there are too few samples
        spec = stft(
            wav.to(torch.float32),
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            win_length=cfg.win_length,
            window=cfg.window,
            center=cfg.center,
        )
        if cfg.kind == "stft_mag":
            return spec.abs()
        parts = torch.view_as_real(spec)
        power = parts.square().sum(dim=-1)  # |X|^2 without the square root of abs()
        if cfg.kind == "chroma":
            raw = torch.matmul(self.chroma_fb, power)
            peak = raw.amax(dim=-2, keepdim=True)
            return raw / torch.where(peak < _FLOAT32_TINY, torch.ones_like(peak), peak)
        log_mel = self._power_to_db(torch.matmul(self.mel_fb, power))
        if cfg.kind == "mfcc":
            return torch.matmul(self.dct, log_mel)
        return log_mel

    def _power_to_db(self, power: torch.Tensor) -> torch.Tensor:
        """``librosa.power_to_db(power, ref=1.0, amin, top_db)`` per item; (..., F, T)."""
        amin = self.config.amin
        db = 10.0 * torch.log10(power.clamp_min(amin)) - 10.0 * math.log10(max(amin, 1.0))
        if self.config.top_db is None:
            return db
        floor = db.amax(dim=(-2, -1), keepdim=True) - self.config.top_db
        return torch.maximum(db, floor)

    def extra_repr(self) -> str:
        return repr(self.config)


def extract(wav: Waveform | np.ndarray | torch.Tensor, config: FeatureConfig) -> torch.Tensor:
    """Compute the features ``config`` describes for one (multi-channel) signal.

    Args:
        wav: a :class:`Waveform` (its sample rate must equal ``config.sample_rate``),
            or samples already at ``config.sample_rate`` of shape (channels, time) or
            (time,).
        config: the features to compute.

    Returns:
        float32 tensor of shape (channels, config.n_features, frames), without autograd
        history.

    Raises:
        ConfigError: the Waveform's sample rate differs from ``config.sample_rate``.
        ShapeError: the samples are not 1-D or 2-D, or have no samples.
    """
    if isinstance(wav, Waveform):
        if wav.sample_rate != config.sample_rate:
            raise ConfigError(
                f"audio is at {wav.sample_rate} Hz but the features expect "
                f"{config.sample_rate} Hz; resample it first (cantata.audio)"
            )
        samples = torch.tensor(wav.samples)
    elif isinstance(wav, np.ndarray):
        samples = torch.tensor(np.asarray(wav, dtype=np.float32))
    else:
        samples = wav
    if samples.ndim == 1:
        samples = samples.unsqueeze(0)
    if samples.ndim != 2 or samples.numel() == 0:
        raise ShapeError(
            f"extract needs non-empty (channels, time) or (time,) samples, "
            f"got shape {tuple(samples.shape)}"
        )
    with torch.no_grad():
        return FeatureExtractor(config).to(samples.device)(samples)
