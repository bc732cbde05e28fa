"""The defect detector: a CRNN on log-mel plus frame features of the raw waveform.

Log-mel frames (23 ms windows) smooth away what makes many defects: a one-sample click, a 5 ms
dropout, the flat tops of clipping, a DC offset (below the lowest mel band). So the net
also sees, per log-mel frame, cheap features of the waveform itself
(:func:`frame_features`): the frame's mean (DC), level and peak, the fraction of samples
at the frame's peak (clipping), the crest of the first and second differences (clicks,
jumps), the quietest sub-block and exact zeros (dropouts), and the energies of the
waveform and of its first difference in ``sub_blocks`` short sub-blocks of the frame (a
high-resolution view of the frame, a few milliseconds apart).

Architecture: log-mel -> the GLU convolutional front of the singing detector
(:class:`~cantata.models.detector.ConvFront`: batch norm, pooling over frequency only, so
every frame keeps its own output); frame features -> batch norm -> a 1-D convolution;
both concatenated -> a bidirectional GRU; its output and (skipping it) the frame-feature
branch's -> one logit per defect type and frame. Training from weak labels pools the frame
probabilities to clip probabilities (:mod:`cantata.models.pooling`, chosen by ``pooling``).

Shapes: mono waveform (batch, time) at ``features.sample_rate`` -> logits
(batch, n_types, 1 + time // hop); frame i is centred on sample ``i * hop``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cantata.audio.clicks import N_CANDIDATE_FEATURES
from cantata.data.labels import DEFECT_TYPES
from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.models.detector import ConvFront, FrontConfig
from cantata.models.pooling import POOLINGS, MILPooling
from cantata.models.registry import register

#: frame features besides the sub-block energies (see :func:`frame_features`)
N_SCALAR_FEATURES = 10
_TINY = 1e-10

DEFECT_FEATURES = FeatureConfig(kind="logmel", sample_rate=22050, n_fft=512, hop_length=256,
                                n_mels=64)
"""The default input: 22.05 kHz (codec damage lives above 8 kHz), 11.6 ms frames, 23 ms
windows (a 1024-point FFT costs several times as much and blurs short defects more)."""


@dataclass(frozen=True)
class DefectDetectorConfig:
    """The defect detector.

    Attributes:
        features: the log-mel input (its hop is the output's frame hop).
        front: the convolutional front on the log-mel (``front.n_mels`` must equal
            ``features.n_mels``; it must not be causal).
        sub_blocks: short sub-blocks per frame (``hop_length`` must divide by it) whose
            energies the net sees.
        lpc_order: taps of the linear predictor whose residual the net sees (the click
            evidence: an impulse the music's own spectrum does not predict); 0 for none.
        raw_channels: output channels of the frame-feature convolution.
        rnn_hidden: GRU units per direction.
        types: one output per defect type.
        pooling: the MIL pooling of the frames to a clip (one of
            :data:`~cantata.models.pooling.POOLINGS`); ``attention`` adds an attention head.
        verifier_hidden: units of each hidden layer of the candidate verifier
            (:class:`CandidateVerifier`, which judges the residual outliers of the waveform
            at its own rate: a click, a jump, or music); 0 for none.
    """

    features: FeatureConfig = DEFECT_FEATURES
    front: FrontConfig = FrontConfig(n_mels=64, channels=(16, 32, 64), freq_pool=(4, 4, 4))
    sub_blocks: int = 8
    lpc_order: int = 12
    raw_channels: int = 16
    rnn_hidden: int = 64
    types: tuple[str, ...] = DEFECT_TYPES
    pooling: str = "linear_softmax"
    verifier_hidden: int = 0

    def __post_init__(self) -> None:
        if self.front.n_mels != self.features.n_mels or self.features.kind != "logmel":
            raise ConfigError(f"front.n_mels {self.front.n_mels} must equal features.n_mels "
                              f"{self.features.n_mels} of logmel features")
        if self.front.causal:
            raise ConfigError("the defect detector's front cannot be causal")
        if self.sub_blocks < 1 or self.features.hop_length % self.sub_blocks:
            raise ConfigError(f"sub_blocks {self.sub_blocks} must divide hop_length "
                              f"{self.features.hop_length}")
        if self.lpc_order < 0 or self.verifier_hidden < 0:
            raise ConfigError(f"lpc_order and verifier_hidden must be >= 0, got "
                              f"{self.lpc_order}, {self.verifier_hidden}")
        if not self.types or self.pooling not in POOLINGS:
            raise ConfigError(f"need types and a pooling in {POOLINGS}, got {self.types}, "
                              f"{self.pooling!r}")

    @property
    def n_raw(self) -> int:
        """Frame features per frame."""
        lpc = 1 + self.sub_blocks if self.lpc_order else 0
        return N_SCALAR_FEATURES + 2 * self.sub_blocks + lpc


@register("defect-detector", DefectDetectorConfig)
class DefectDetector(nn.Module):
    """CRNN defect detector; waveform (batch, time) -> logits (batch, n_types, frames)."""

    def __init__(self, config: DefectDetectorConfig) -> None:
        super().__init__()
        self.config = config
        self.extractor = FeatureExtractor(config.features)
        self.front = ConvFront(config.front)
        self.raw_norm = nn.BatchNorm1d(config.n_raw)
        self.raw_conv = nn.Conv1d(config.n_raw, config.raw_channels, 3, padding=1)
        self.rnn = nn.GRU(config.front.out_features + config.raw_channels, config.rnn_hidden,
                          batch_first=True, bidirectional=True)
        width = 2 * config.rnn_hidden + config.raw_channels
        self.out = nn.Linear(width, len(config.types))
        self.attention = (nn.Linear(width, len(config.types))
                          if config.pooling == "attention" else None)
        self.pool = MILPooling(config.pooling, len(config.types))
        self.verifier = (CandidateVerifier(config.verifier_hidden, VERIFIED_TYPES)
                         if config.verifier_hidden else None)

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        """The front's input; (batch, time) -> (batch, n_mels, frames)."""
        return self.extractor(wave)

    def inputs(self, wave: torch.Tensor) -> torch.Tensor:
        """The log-mel and the frame features, stacked; (batch, time) ->
        (batch, n_mels + n_raw, frames)."""
        if wave.ndim != 2:
            raise ShapeError(f"expected mono waveforms (batch, time), got {tuple(wave.shape)}")
        features = self.config.features
        parts = [self.log_mel(wave),
                 frame_features(wave, hop=features.hop_length, window=features.n_fft,
                                sub_blocks=self.config.sub_blocks)]
        if self.config.lpc_order:
            parts.append(lpc_features(wave, hop=features.hop_length, window=features.n_fft,
                                      order=self.config.lpc_order,
                                      sub_blocks=self.config.sub_blocks))
        return torch.cat(parts, dim=1)

    def hidden(self, inputs: torch.Tensor) -> torch.Tensor:
        """The GRU's output and, skipping it, the frame-feature branch's (so that a
        one-frame defect reaches the output undiluted); :meth:`inputs` ->
        (batch, frames, 2 * rnn_hidden + raw_channels)."""
        n_mels = self.config.features.n_mels
        spectral = self.front(inputs[:, :n_mels])
        raw = F.relu(self.raw_conv(self.raw_norm(inputs[:, n_mels:])))
        x, _ = self.rnn(torch.cat([spectral, raw], dim=1).transpose(1, 2))
        return torch.cat([x, raw.transpose(1, 2)], dim=-1)

    def logits_of(self, inputs: torch.Tensor) -> torch.Tensor:
        """Frame logits (batch, types, frames) of :meth:`inputs`."""
        return self.out(self.hidden(inputs)).transpose(1, 2)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.logits_of(self.inputs(wave))

    def pooled(self, wave: torch.Tensor, mask: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame logits (batch, types, frames) and clip probabilities (batch, types) pooled
        over the frames in ``mask`` (batch, frames) bool (all if None)."""
        x = self.hidden(self.inputs(wave))
        logits = self.out(x).transpose(1, 2)
        attention = None if self.attention is None else self.attention(x).transpose(1, 2)
        return logits, self.pool(torch.sigmoid(logits), attention, mask)


#: the defect types the candidate verifier tells apart (a residual outlier is one of
#: them, or music)
VERIFIED_TYPES = ("click", "discontinuity")


class CandidateVerifier(nn.Module):
    """Is a residual outlier a click, a jump, or music? An MLP on the candidate's features
    (:func:`cantata.audio.clicks.click_candidates`: the residual's profile in both
    channels, the impulse's shape, the level envelope), standardised by the training
    set's statistics (buffers ``mean``, ``std``); one logit per type of ``types``.

    Shape: features (n, N_CANDIDATE_FEATURES) -> logits (n, len(types)).
    """

    def __init__(self, hidden: int, types: tuple[str, ...] = VERIFIED_TYPES) -> None:
        super().__init__()
        self.types = tuple(types)
        self.register_buffer("mean", torch.zeros(N_CANDIDATE_FEATURES))
        self.register_buffer("std", torch.ones(N_CANDIDATE_FEATURES))
        self.net = nn.Sequential(nn.Linear(N_CANDIDATE_FEATURES, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, len(self.types)))

    def fit_stats(self, features: torch.Tensor) -> None:
        """Standardise by the mean and deviation of ``features`` (n, N_CANDIDATE_FEATURES)."""
        self.mean.copy_(features.mean(dim=0))
        self.std.copy_(features.std(dim=0).clamp_min(1e-3))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net((features - self.mean) / self.std)


class FromInputs(nn.Module):
    """A defect detector from its stacked inputs on (:meth:`DefectDetector.inputs` ->
    logits): the part that exports to ONNX, the STFT and the frame features being computed
    outside the graph."""

    def __init__(self, detector: DefectDetector) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.detector.logits_of(inputs)


def frame_features(wave: torch.Tensor, *, hop: int, window: int,
                   sub_blocks: int) -> torch.Tensor:
    """Level, DC, clipping, click and dropout features of each frame of the waveform.

    Frame i is centred on sample ``i * hop``: its "short" frame is the ``hop`` samples
    around it, its "long" one the ``window`` samples around it (the log-mel's window).
    The rows: long-window mean (DC) and its ratio to the long RMS; short RMS and peak in
    dB; the fraction of samples within 1% of the short peak; log crest (peak over long
    RMS) of the first and of the second difference; the quietest of the ``sub_blocks``
    sub-blocks in dB, absolute and relative to the frame; the fraction of exact zeros;
    then the log energy of each sub-block relative to the long window, of the waveform
    and of its first difference.

    Shape: (batch, time) -> (batch, 10 + 2 * sub_blocks, 1 + time // hop).
    """
    frames = 1 + wave.shape[-1] // hop
    half = window // 2
    x = _pad(wave.unsqueeze(1), half, window - half + 2)  # (batch, 1, padded)
    d1 = x[..., 1:] - x[..., :-1]
    d2 = d1[..., 1:] - d1[..., :-1]
    long = {name: F.avg_pool1d(sig, window, hop)[..., :frames] for name, sig in
            (("mean", x), ("ms", x * x), ("d1", d1 * d1), ("d2", d2 * d2))}
    start = half - hop // 2
    short, s1, s2 = (sig[:, 0, start: start + frames * hop].reshape(-1, frames, hop)
                     for sig in (x, d1, d2))
    peak = short.abs().amax(dim=-1)
    sub_ms = short.reshape(-1, frames, sub_blocks, hop // sub_blocks).square().mean(dim=-1)
    d1_ms = s1.reshape(-1, frames, sub_blocks, hop // sub_blocks).square().mean(dim=-1)
    frame_db = _db(short.square().mean(dim=-1))
    scalars = [
        long["mean"][:, 0], long["mean"][:, 0].abs() / (long["ms"][:, 0] + _TINY).sqrt(),
        frame_db, 2 * _db(peak),
        ((short.abs() >= 0.99 * peak[..., None]) & (peak[..., None] > 1e-3)).float().mean(-1),
        torch.log(s1.abs().amax(dim=-1) / (long["d1"][:, 0] + _TINY).sqrt() + 1e-3),
        torch.log(s2.abs().amax(dim=-1) / (long["d2"][:, 0] + _TINY).sqrt() + 1e-3),
        _db(sub_ms.amin(dim=-1)), _db(sub_ms.amin(dim=-1)) - frame_db,
        (short == 0).float().mean(dim=-1)]
    return torch.cat([torch.stack(scalars, dim=1),
                      (_db(sub_ms) - _db(long["ms"][:, 0])[..., None]).transpose(1, 2),
                      (_db(d1_ms) - _db(long["d1"][:, 0])[..., None]).transpose(1, 2)], dim=1)


def lpc_features(wave: torch.Tensor, *, hop: int, window: int, order: int,
                 sub_blocks: int, context: int = 4) -> torch.Tensor:
    """Click evidence of each frame: how far the residual of a linear predictor stands out.

    Per frame, an ``order``-tap predictor is fitted to the ``window`` samples around it
    (autocorrelation method, Hann window); its residual over the frame's ``hop`` samples is
    measured against a robust scale, 1.4826 x the median absolute residual, taken as the
    median over the frame and its ``context`` neighbours on each side (a drum hit lasts
    several frames, a click one). Rows: the log of the frame's largest residual over that
    scale, then the same for each of the ``sub_blocks`` sub-blocks (where in the frame).

    Shape: (batch, time) -> (batch, 1 + sub_blocks, 1 + time // hop).
    """
    frames = 1 + wave.shape[-1] // hop
    half = window // 2
    x = _pad(wave.unsqueeze(1), half + order, window - half + 2)
    seg = x.unfold(-1, window + order, hop)[:, 0, :frames]  # (batch, frames, order + window)
    y = seg[..., order:] * torch.hann_window(window, dtype=wave.dtype, device=wave.device)
    r = torch.stack([(y[..., k:] * y[..., : window - k]).sum(-1) for k in range(order + 1)],
                    dim=-1)  # (batch, frames, order + 1)
    lags = torch.arange(order, device=wave.device)
    toeplitz = r[..., (lags[:, None] - lags[None, :]).abs()]
    ridge = (1e-4 * r[..., :1] + _TINY)[..., None] * torch.eye(order, dtype=wave.dtype,
                                                                device=wave.device)
    a = torch.linalg.solve(toeplitz + ridge, r[..., 1:])  # (batch, frames, order)
    start = order + half - hop // 2
    residual = seg[..., start: start + hop].clone()
    for k in range(1, order + 1):
        residual -= a[..., k - 1: k] * seg[..., start - k: start - k + hop]
    mad = _median(residual.abs())  # (batch, frames)
    padded = F.pad(mad[:, None], (context, context), mode="replicate")[:, 0]
    scale = 1.4826 * _median(padded.unfold(-1, 2 * context + 1, 1)) + 1e-6
    peaks = residual.abs().reshape(-1, frames, sub_blocks, hop // sub_blocks).amax(dim=-1)
    ratio = torch.log(torch.cat([peaks.amax(dim=-1, keepdim=True), peaks], dim=-1)
                      / scale[..., None] + 1e-3)
    return ratio.transpose(1, 2)


def _median(x: torch.Tensor) -> torch.Tensor:
    """``x.median(dim=-1).values`` (the lower median); on the CPU without gradients by
    numpy's partition, which finds it several times faster than torch's sort."""
    if x.device.type != "cpu" or x.requires_grad or torch.jit.is_tracing():
        return x.median(dim=-1).values
    middle = (x.shape[-1] - 1) // 2
    return torch.from_numpy(np.partition(x.numpy(), middle, axis=-1)[..., middle])


def _db(power: torch.Tensor) -> torch.Tensor:
    """Power in bels (dB / 10, so values stay within a few units)."""
    return torch.log10(power + _TINY)


def _pad(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """Reflect-pad the time axis (replicate where the signal is too short to reflect), so
    a recording's edges do not look like a dropout."""
    mode = "reflect" if x.shape[-1] > max(left, right) else "replicate"
    return F.pad(x, (left, right), mode=mode)


def debug_defect_detector() -> DefectDetector:
    """A random-weight defect detector of a few kB (P8): same code paths, meaningless output."""
    config = DefectDetectorConfig(
        features=FeatureConfig(kind="logmel", sample_rate=16000, n_fft=512, hop_length=160,
                               n_mels=32),
        front=FrontConfig(n_mels=32, channels=(4, 8), freq_pool=(4, 4)),
        sub_blocks=4, raw_channels=4, rnn_hidden=8, verifier_hidden=4)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return DefectDetector(config).eval()
