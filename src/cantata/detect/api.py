"""The detection API: load a detector once, get regions for files or arrays.

Long files are decoded block by block and classified in overlapping windows of one
length (each sees a few seconds of context on both sides, which is then dropped), run a
batch at a time, so a two-hour file is processed in bounded memory; files shorter than
one window are processed whole.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from cantata import audio
from cantata.detect.postprocess import PostprocessConfig, probs_to_segments
from cantata.errors import ModelLoadError
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.models.registry import load_checkpoint
from cantata.types import Segment, Waveform

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
#: shipped model name -> checkpoint file stem in ``cantata/weights`` (``<stem>-<sha8>.pt``)
SHIPPED = {
    "singing": "singing-detector-binary",
    "singing-multilabel": "singing-detector-multilabel",
    "singing-causal": "singing-detector-causal",
    "speech": "speech-detector",
}
CHUNK_S = 30.0
CONTEXT_S = 4.0
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
        """Load a shipped model by name (see ``SHIPPED``) or a checkpoint file.

        Raises:
            ModelLoadError: unknown name, missing weights, or a bad checkpoint.
        """
        if str(name_or_path) in DEBUG_LABELS:
            return debug_detector(str(name_or_path), postprocess=postprocess)
        path = shipped_path(str(name_or_path)) if str(name_or_path) in SHIPPED \
            else Path(name_or_path)
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

    def detect(self, src: str | os.PathLike[str] | Waveform) -> list[Segment]:
        """Regions of each label in a file or a :class:`Waveform`."""
        frames = self.frame_probs(src)
        return probs_to_segments(frames.probs, labels=frames.labels, hop_s=frames.hop_s,
                                 config=self.postprocess, duration_s=frames.duration_s)

    def frame_probs(self, src: str | os.PathLike[str] | Waveform) -> FrameProbs:
        """Frame probabilities of a file (streamed) or a :class:`Waveform`."""
        rate = self.features.sample_rate
        if isinstance(src, Waveform):
            mono = audio.resample(src.to_mono(), rate).samples[0]
            blocks: Iterator[np.ndarray] = iter([mono])
        else:
            blocks = (b.samples[0] for b in audio.stream(src, block_s=DECODE_BLOCK_S,
                                                         sample_rate=rate, mono=True))
        probs, n_samples = self._chunked(blocks)
        return FrameProbs(probs, self.labels, self.hop_s, n_samples / rate)

    def probs_of(self, samples: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for one stretch of mono audio; (time,) -> (labels, frames).

        The model's sigmoid outputs are mapped piecewise-linearly so that each label's
        decision threshold, calibrated on validation data at training time, lands on 0.5.
        """
        with torch.inference_mode():
            features = self.extractor(torch.from_numpy(np.ascontiguousarray(samples))[None])
            raw = torch.sigmoid(self.model(features))[0].numpy()
        return calibrate(raw, self.thresholds)

    def detect_many(self, srcs: Sequence[str | os.PathLike[str] | Waveform], *,
                    batch_windows: int = 32) -> list[list[Segment]]:
        """Regions of several recordings, their windows run together in batches.

        Equal to :meth:`detect` on each (windows of equal length share a forward pass,
        which changes nothing but the speed). Recordings are held in memory: for many
        short clips, such as a server's requests; stream long files with :meth:`detect`.
        """
        return [probs_to_segments(f.probs, labels=f.labels, hop_s=f.hop_s,
                                  config=self.postprocess, duration_s=f.duration_s)
                for f in self.frame_probs_many(srcs, batch_windows=batch_windows)]

    def frame_probs_many(self, srcs: Sequence[str | os.PathLike[str] | Waveform], *,
                         batch_windows: int = 32) -> list[FrameProbs]:
        """Frame probabilities of several recordings, windows batched across them."""
        rate = self.features.sample_rate
        monos = [self._mono(src) for src in srcs]
        plans = [list(self._windows(iter([mono]))) for mono in monos]
        flat = [window for plan in plans for window in plan]
        probs = dict(zip(map(id, flat), self._run_batched(flat, batch_windows), strict=True))
        out = []
        for mono, plan in zip(monos, plans, strict=True):
            n_frames = 1 + len(mono) // self.features.hop_length if len(mono) else 0
            parts = [probs[id(w)] for w in plan]
            joined = np.concatenate(parts, axis=1) if parts else \
                np.zeros((len(self.labels), 0), np.float32)
            out.append(FrameProbs(joined[:, :n_frames], self.labels, self.hop_s,
                                  len(mono) / rate))
        return out

    def _mono(self, src: str | os.PathLike[str] | Waveform) -> np.ndarray:
        """The recording as mono samples at the model's rate, (time,)."""
        rate = self.features.sample_rate
        if isinstance(src, Waveform):
            return audio.resample(src.to_mono(), rate).samples[0]
        return audio.load(src, sample_rate=rate, mono=True).samples[0]

    def _chunked(self, blocks: Iterator[np.ndarray]) -> tuple[np.ndarray, int]:
        """Classify a stream in overlapping windows; returns (probs, total samples).

        Full-length windows run ``BATCH_WINDOWS`` at a time as they arrive (bounded
        memory); the last, shorter one on its own.
        """
        total: list[int] = []
        out: list[np.ndarray] = []
        pending: list[_Window] = []
        for window in self._windows(blocks, total):
            pending.append(window)
            if len(pending) == BATCH_WINDOWS:
                out += self._run_batched(pending, BATCH_WINDOWS)
                pending = []
        out += self._run_batched(pending, BATCH_WINDOWS)
        n_total = total[0]
        n_frames = 1 + n_total // self.features.hop_length if n_total else 0
        probs = np.concatenate(out, axis=1) if out else np.zeros((len(self.labels), 0))
        return probs[:, :n_frames], n_total

    def _windows(self, blocks: Iterator[np.ndarray],
                 total: list[int] | None = None) -> Iterator[_Window]:
        """Cut a stream into overlapping windows, in order; appends the stream's length
        in samples to ``total`` when done.

        Every window spans ``CHUNK_S + 2 * CONTEXT_S`` and keeps the probabilities of its
        middle ``CHUNK_S`` (the first keeps its start, the last its end), so all windows
        have one length and can share a forward pass: the recurrent layer steps through a
        batch of windows at the cost of one. A stream no longer than one window is one
        window, whole.
        """
        hop = self.features.hop_length
        chunk = round(CHUNK_S * self.features.sample_rate / hop)  # frames kept per window
        ctx = round(CONTEXT_S * self.features.sample_rate / hop)  # frames of context
        span = (chunk + 2 * ctx) * hop  # samples per window
        buf, buf_start, done, n_total = np.zeros(0, np.float32), 0, 0, 0  # buf_start: sample
        for block in blocks:
            buf = np.concatenate([buf, block.astype(np.float32)])
            n_total += len(block)
            while max(0, done - ctx) * hop + span <= n_total:
                first = max(0, done - ctx)
                at = first * hop - buf_start
                yield _Window(done, chunk, first, buf[at: at + span].copy())
                done += chunk
            keep_from = min(max(0, done - ctx) * hop, max(0, n_total - span))
            buf, buf_start = buf[keep_from - buf_start:], keep_from
        n_frames = 1 + n_total // hop if n_total else 0
        if done == 0 and n_frames:  # short: the whole stream in one window
            yield _Window(0, n_frames, 0, buf)
        elif done < n_frames:  # the last window ends at the end
            first = -(-(n_total - span) // hop)
            yield _Window(done, n_frames - done, first, buf[first * hop - buf_start:])
        if total is not None:
            total.append(n_total)

    def _run_batched(self, windows: list[_Window], batch: int) -> list[np.ndarray]:
        """Probs of each window's kept frames, in order; windows of one length run
        ``batch`` at a time."""
        by_length: dict[int, list[int]] = {}
        for i, window in enumerate(windows):
            by_length.setdefault(len(window.audio), []).append(i)
        out: list[np.ndarray] = [np.zeros(0)] * len(windows)
        for indices in by_length.values():
            for start in range(0, len(indices), batch):
                group = indices[start:start + batch]
                for i, probs in zip(group, self._run_windows([windows[i] for i in group]),
                                    strict=True):
                    out[i] = probs
        return out

    def _run_windows(self, windows: list[_Window]) -> list[np.ndarray]:
        """Probs of each window's kept frames [kept, kept + count), one forward pass."""
        if not windows:
            return []
        with torch.inference_mode():
            batch = torch.from_numpy(np.stack([w.audio for w in windows]))
            raw = torch.sigmoid(self.model(self.extractor(batch))).numpy()
        return [calibrate(raw[i], self.thresholds)[:, w.kept - w.first: w.kept - w.first +
                                                    w.count]
                for i, w in enumerate(windows)]


class _Window(NamedTuple):
    """A stretch of audio to classify: frames [kept, kept + count) of the stream are kept
    from its output; its first sample is frame ``first``'s."""

    kept: int
    count: int
    first: int
    audio: np.ndarray


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
    """Map each row's threshold to 0.5, monotonically; (labels, frames) -> same."""
    low = 0.5 * probs / thresholds
    high = 0.5 + 0.5 * (probs - thresholds) / (1 - thresholds)
    return np.where(probs <= thresholds, low, high).astype(np.float32)


def shipped_path(name: str) -> Path:
    """The checkpoint file of a shipped model (``cantata/weights/<stem>-<sha8>.pt``)."""
    stem = SHIPPED[name]
    found = sorted(WEIGHTS_DIR.glob(f"{stem}-*.pt"))
    if not found:
        raise ModelLoadError(f"the shipped model {name!r} has no weights in {WEIGHTS_DIR} "
                             f"(expected {stem}-<hash>.pt); train it with `cantata train`")
    return found[-1]


def detect(src: str | os.PathLike[str] | Waveform, *, model: str = "singing") -> list[Segment]:
    """Regions of a file or waveform with a shipped model (loaded once per name)."""
    return _cached(model).detect(src)


_DETECTORS: dict[str, VoiceDetector] = {}


def _cached(name: str) -> VoiceDetector:
    if name not in _DETECTORS:
        _DETECTORS[name] = VoiceDetector.from_pretrained(name)
    return _DETECTORS[name]
