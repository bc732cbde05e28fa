"""The detection API: load a detector once, get regions for files or arrays.

Long files are decoded block by block and classified in overlapping windows of one
length (each sees a few seconds of context on both sides, which is then dropped), run a
batch at a time, so a two-hour file is processed in bounded memory; files shorter than
one window are processed whole (:mod:`cantata.engine.stitch`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cantata import audio
from cantata.capabilities import model_path
from cantata.detect.postprocess import PostprocessConfig, probs_to_segments
from cantata.engine import Progress, StitchPlan, stitch, stitch_many
from cantata.errors import ModelLoadError
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.models.registry import load_checkpoint
from cantata.types import Segment, Source, Waveform, as_source

log = logging.getLogger(__name__)

#: seconds of probabilities kept per window, and of context on each side of them
CHUNK_S = 30.0
CONTEXT_S = 4.0
#: windows per forward pass when streaming a file
BATCH_WINDOWS = 8
DECODE_BLOCK_S = 30.0


@dataclass(frozen=True)
class FrameProbs:
    """Frame probabilities of one recording.

    Attributes:
        probs: shape (n_labels, frames); frame i is centred on ``i * hop_s``.
        labels: one name per row.
        hop_s: frame hop in seconds.
        duration_s: length of the recording.
    """

    probs: np.ndarray
    labels: tuple[str, ...]
    hop_s: float
    duration_s: float


class VoiceDetector:
    """A singing (or speech) detector with its features and post-processing.

    Example:
        >>> detector = VoiceDetector.from_pretrained("singing")        # doctest: +SKIP
        >>> detector.detect("song.mp3")[:1]                             # doctest: +SKIP
        [Segment(start_s=12.34, end_s=19.8, label='vocal', confidence=0.93)]
    """

    def __init__(self, model: torch.nn.Module, *, features: FeatureConfig,
                 labels: tuple[str, ...], name: str = "",
                 postprocess: PostprocessConfig | None = None,
                 thresholds: tuple[float, ...] | None = None) -> None:
        self.model = model.eval()
        self.features, self.labels, self.name = features, labels, name
        self.thresholds = np.asarray(thresholds or (0.5,) * len(labels), np.float32)[:, None]
        self.postprocess = postprocess or PostprocessConfig()
        self.extractor = FeatureExtractor(features)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str] = "singing", *,
                        postprocess: PostprocessConfig | None = None) -> VoiceDetector:
        """Load a shipped model by name (``cantata models``), a debug model, or a checkpoint.

        Raises:
            ModelLoadError: unknown name, missing weights, or a bad checkpoint.
        """
        if str(name_or_path) in DEBUG_LABELS:
            return debug_detector(str(name_or_path), postprocess=postprocess)
        path = model_path(name_or_path, "detect")
        model, checkpoint = load_checkpoint(path)
        try:
            features = FeatureConfig.from_dict(checkpoint.meta["features"])
            labels = tuple(checkpoint.meta["labels"])
        except (KeyError, TypeError) as err:
            raise ModelLoadError(f"{path}: checkpoint lacks its feature config or labels") \
                from err
        metrics = checkpoint.meta.get("training", {}).get("metrics", {})
        thresholds = tuple(float(metrics.get(f"threshold/{label}", 0.5)) for label in labels)
        return cls(model, features=features, labels=labels, name=str(name_or_path),
                   postprocess=postprocess, thresholds=thresholds)

    @property
    def hop_s(self) -> float:
        return self.features.hop_length / self.features.sample_rate

    def detect(self, src: Source, sr: int | None = None, *, sample_rate: int | None = None,
               on_progress: Progress | None = None) -> list[Segment]:
        """Regions of each label in a file, a :class:`Waveform`, or an array ``y`` with its
        rate ``sr`` (librosa style; ``sample_rate=`` is the same, any layout
        :class:`Waveform` accepts).

        ``on_progress`` is called with the seconds of audio finished, window by window.
        """
        return self.segments_of(self.frame_probs(src, sr, sample_rate=sample_rate,
                                                 on_progress=on_progress))

    def segments_of(self, frames: FrameProbs) -> list[Segment]:
        """The regions of frame probabilities, by this detector's post-processing."""
        return probs_to_segments(frames.probs, labels=frames.labels, hop_s=frames.hop_s,
                                 config=self.postprocess, duration_s=frames.duration_s)

    def frame_probs(self, src: Source, sr: int | None = None, *,
                    sample_rate: int | None = None,
                    on_progress: Progress | None = None) -> FrameProbs:
        """Frame probabilities of a file (streamed), a :class:`Waveform` or an array with
        its rate (as :meth:`detect`).

        ``on_progress`` is called with the seconds of audio finished, window by window.
        """
        src = as_source(src, sr, sample_rate=sample_rate)
        rate = self.features.sample_rate
        if isinstance(src, Waveform):
            mono = audio.resample(src.to_mono(), rate).samples[0]
            blocks: Iterator[np.ndarray] = iter([mono])
        else:
            blocks = (b.samples[0] for b in audio.stream(src, block_s=DECODE_BLOCK_S,
                                                         sample_rate=rate, mono=True))
        probs, n_samples = stitch(self._plan(), blocks, self._forward, batch_size=BATCH_WINDOWS,
                                  out_dims=(len(self.labels),), on_progress=on_progress)
        return FrameProbs(probs, self.labels, self.hop_s, n_samples / rate)

    def probs_of(self, samples: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for one stretch of mono audio; (time,) -> (labels, frames).

        The model's sigmoid outputs are mapped piecewise-linearly so that each label's
        decision threshold, calibrated on validation data at training time, lands on 0.5.
        """
        return self._forward(np.ascontiguousarray(samples)[None])[0]

    def detect_many(self, srcs: Sequence[str | os.PathLike[str] | Waveform], *,
                    batch_windows: int = 32) -> list[list[Segment]]:
        """Regions of several recordings, their windows run together in batches.

        Equal to :meth:`detect` on each (windows of equal length share a forward pass,
        which changes nothing but the speed). Recordings are held in memory: for many
        short clips, such as a server's requests; stream long files with :meth:`detect`.
        """
        return [self.segments_of(f)
                for f in self.frame_probs_many(srcs, batch_windows=batch_windows)]

    def frame_probs_many(self, srcs: Sequence[str | os.PathLike[str] | Waveform], *,
                         batch_windows: int = 32) -> list[FrameProbs]:
        """Frame probabilities of several recordings, windows batched across them."""
        rate = self.features.sample_rate
        monos = [self._mono(src) for src in srcs]
        probs = stitch_many(self._plan(), monos, self._forward, batch_size=batch_windows,
                            out_dims=(len(self.labels),))
        return [FrameProbs(p, self.labels, self.hop_s, len(mono) / rate)
                for mono, p in zip(monos, probs, strict=True)]

    def _mono(self, src: Source) -> np.ndarray:
        """The recording as mono samples at the model's rate, (time,)."""
        src = as_source(src)
        rate = self.features.sample_rate
        if isinstance(src, Waveform):
            return audio.resample(src.to_mono(), rate).samples[0]
        return audio.load(src, sample_rate=rate, mono=True).samples[0]

    def _plan(self) -> StitchPlan:
        """Windows that keep ``CHUNK_S`` of probabilities with ``CONTEXT_S`` on each side.

        All full windows have one length, so they share forward passes: the recurrent
        layer steps through a batch of windows at the cost of one.
        """
        return StitchPlan.from_seconds(sample_rate=self.features.sample_rate,
                                       hop=self.features.hop_length, keep_s=CHUNK_S,
                                       context_s=CONTEXT_S)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, one forward pass; (batch, time) -> (batch, labels, frames)."""
        with torch.inference_mode():
            raw = torch.sigmoid(self.model(self.extractor(torch.from_numpy(batch)))).numpy()
        return calibrate(raw, self.thresholds)


#: tiny random models for tests and offline smoke runs (P8): name -> labels
DEBUG_LABELS = {"debug": ("vocal",), "debug-multilabel": ("vocal", "accompaniment", "silence")}
DEBUG_FEATURES = FeatureConfig(kind="logmel", sample_rate=16000, n_fft=512, hop_length=320,
                               n_mels=32)


def debug_detector(name: str, *, postprocess: PostprocessConfig | None = None) -> VoiceDetector:
    """A random-weight detector of a few kB: same code paths, meaningless output."""
    from cantata.models.detector import FrontConfig, SingingDetector, SingingDetectorConfig

    torch.manual_seed(0)
    config = SingingDetectorConfig(front=FrontConfig(n_mels=32, channels=(4, 8), freq_pool=(4, 2)),
                                   rnn_hidden=8, labels=DEBUG_LABELS[name])
    return VoiceDetector(SingingDetector(config), features=DEBUG_FEATURES,
                         labels=config.labels, name=name, postprocess=postprocess)


def calibrate(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Map each label's threshold to 0.5, monotonically; (..., labels, frames) -> same,
    with ``thresholds`` (labels, 1)."""
    low = 0.5 * probs / thresholds
    high = 0.5 + 0.5 * (probs - thresholds) / (1 - thresholds)
    return np.where(probs <= thresholds, low, high).astype(np.float32)


def detect(src: Source, sr: int | None = None, *, sample_rate: int | None = None,
           model: str = "singing") -> list[Segment]:
    """Where the singing is in a recording, with a shipped model (loaded once per name).

    Args:
        src: an audio file, a :class:`~cantata.types.Waveform`, or an array ``y`` of
            samples: (time,), (channels, time), or (time, channels) as ``soundfile.read``
            gives it; integer PCM is scaled to [-1, 1).
        sr: the array's sample rate (librosa's name; ``sample_rate=`` is the same).
        model: ``"singing"`` (vocal regions) or ``"singing-multilabel"`` (vocal,
            accompaniment and silence), a checkpoint path, or ``"debug"``.

    Returns:
        :class:`~cantata.types.Segment` regions in time order (``.to_dict()`` for JSON).

    Example:
        >>> y, sr = soundfile.read("song.wav")              # doctest: +SKIP
        >>> cantata.detect(y, sr=sr)[:1]                     # doctest: +SKIP
        [Segment(start_s=12.34, end_s=19.8, label='vocal', confidence=0.93)]
    """
    return _cached(model).detect(src, sr, sample_rate=sample_rate)


_DETECTORS: dict[str, VoiceDetector] = {}


def _cached(name: str) -> VoiceDetector:
    if name not in _DETECTORS:
        _DETECTORS[name] = VoiceDetector.from_pretrained(name)
    return _DETECTORS[name]
