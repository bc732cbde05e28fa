"""The defect detection API: load a defect detector once, get events and a verdict per file.

Long files are decoded block by block and run in overlapping windows of one length (each
sees a couple of seconds of context on both sides, which is then dropped), a batch at a
time (:func:`cantata.engine.stitch`), so a file of any length runs in bounded memory.
Frame probabilities are calibrated per type (the thresholds chosen on validation data at
training time land on 0.5), then fused into events and a song verdict
(:mod:`cantata.defects.postprocess`).

Example:
    >>> detector = DefectDetector.from_pretrained("debug")          # doctest: +SKIP
    >>> report = detector.detect("song.mp3")                         # doctest: +SKIP
    >>> report.verdict.defective, report.events[:1]                  # doctest: +SKIP
    (True, [DefectEvent(type='click', start_s=12.34, end_s=12.352, confidence=0.97)])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cantata import audio
from cantata.capabilities import capability, load, model_path
from cantata.data.labels import DEFECT_TYPES
from cantata.defects.postprocess import (
    FusionConfig,
    Verdict,
    calibrate,
    frames_to_events,
    verdict,
)
from cantata.defects.rules import DefectEvent
from cantata.engine import Progress, StitchPlan, stitch
from cantata.errors import ConfigError, ModelLoadError
from cantata.models.registry import load_checkpoint
from cantata.types import Source, Waveform, as_source

log = logging.getLogger(__name__)

__all__ = ["DEFECT_TYPES", "DefectDetector", "DefectEvent", "DefectReport", "FrameProbs"]

#: seconds of frames kept per window, and of context on each side of them
CHUNK_S = 30.0
CONTEXT_S = 2.0
#: windows per forward pass when streaming a file
BATCH_WINDOWS = 4
DECODE_BLOCK_S = 30.0


@dataclass(frozen=True)
class FrameProbs:
    """Calibrated frame probabilities of one recording.

    Attributes:
        probs: (types, frames); frame i is centred on ``i * hop_s``; 0.5 is each type's
            decision threshold.
        types: one defect type per row.
        hop_s: frame hop in seconds.
        duration_s: length of the recording.
    """

    probs: np.ndarray
    types: tuple[str, ...]
    hop_s: float
    duration_s: float


@dataclass(frozen=True)
class DefectReport:
    """What the detector found in one recording.

    Attributes:
        events: defect events in time order.
        verdict: the song verdict.
        duration_s: length of the recording.
        model: the detector's name.
    """

    events: list[DefectEvent]
    verdict: Verdict
    duration_s: float
    model: str

    def to_dict(self, file: str | None = None) -> dict[str, Any]:
        """``{"file", "model", "duration_s", "events": [...], "verdict": {...}}``."""
        return {"file": file, "model": self.model, "duration_s": round(self.duration_s, 6),
                "events": [e.to_dict() for e in self.events], "verdict": self.verdict.to_dict()}


class DefectDetector:
    """A defect detector network with its calibrated thresholds and its fusion rule."""

    def __init__(self, model: torch.nn.Module, *, name: str = "",
                 thresholds: Sequence[float] | None = None,
                 fusion: FusionConfig | None = None) -> None:
        self.model = model.eval()
        self.name = name
        self.types: tuple[str, ...] = tuple(model.config.types)
        self.thresholds = np.asarray(thresholds or (0.5,) * len(self.types), np.float64)
        if self.thresholds.shape != (len(self.types),) or not np.all(
                (self.thresholds > 0) & (self.thresholds < 1)):
            raise ConfigError(f"need one threshold in (0, 1) per type {self.types}, got "
                              f"{list(self.thresholds)}")
        self.fusion = fusion or FusionConfig()

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str] | None = None, *,
                        fusion: FusionConfig | None = None) -> DefectDetector:
        """Load a shipped model by name, a debug model (``"debug"``) or a checkpoint.

        Raises:
            ModelLoadError: unknown name, missing weights, or a checkpoint of another
                network.
        """
        cap = capability("defects")
        name = str(name_or_path) if name_or_path is not None else cap.default_model
        if name in cap.debug:
            return cls(load(cap.debug[name])(), name=name, fusion=fusion)
        path = model_path(name, "defects")
        model, checkpoint = load_checkpoint(path)
        if checkpoint.name not in cap.networks:
            raise ModelLoadError(f"{path}: a {checkpoint.name!r} checkpoint, not a defect "
                                 f"detector ({', '.join(cap.networks)})")
        metrics = checkpoint.meta.get("training", {}).get("metrics", {})
        thresholds = [float(metrics.get(f"threshold/{t}", 0.5)) for t in model.config.types]
        return cls(model, name=name, thresholds=thresholds, fusion=fusion)

    @property
    def sample_rate(self) -> int:
        return int(self.model.config.features.sample_rate)

    @property
    def hop_s(self) -> float:
        return self.model.config.features.hop_length / self.sample_rate

    def detect(self, src: Source, sr: int | None = None, *, sample_rate: int | None = None,
               types: Sequence[str] | None = None,
               on_progress: Progress | None = None) -> DefectReport:
        """Defect events and the song verdict of a file (streamed), a :class:`Waveform`,
        or an array ``y`` with its rate ``sr`` (librosa style).

        Args:
            types: report only these types (default: all the model's).
            on_progress: called with the seconds of audio finished, window by window.

        Raises:
            ConfigError: a type the model does not detect.
        """
        frames = self.frame_probs(src, sr, sample_rate=sample_rate, on_progress=on_progress)
        return self.report_of(frames, types=types)

    def report_of(self, frames: FrameProbs, *, types: Sequence[str] | None = None
                  ) -> DefectReport:
        """Events and verdict of frame probabilities, for ``types`` (default: all)."""
        rows = self._rows(types)
        probs, names = frames.probs[rows], tuple(self.types[i] for i in rows)
        events = frames_to_events(probs, types=names, hop_s=frames.hop_s,
                                  duration_s=frames.duration_s, config=self.fusion)
        return DefectReport(events, verdict(events, probs, types=names), frames.duration_s,
                            self.name)

    def frame_probs(self, src: Source, sr: int | None = None, *,
                    sample_rate: int | None = None,
                    on_progress: Progress | None = None) -> FrameProbs:
        """Calibrated frame probabilities (as :meth:`detect` takes its input)."""
        src, rate = as_source(src, sr, sample_rate=sample_rate), self.sample_rate
        if isinstance(src, Waveform):
            blocks: Iterator[np.ndarray] = iter([audio.resample(src.to_mono(), rate).samples[0]])
        else:
            blocks = (b.samples[0] for b in audio.stream(src, block_s=DECODE_BLOCK_S,
                                                         sample_rate=rate, mono=True))
        plan = StitchPlan.from_seconds(sample_rate=rate, hop=self.model.config.features.hop_length,
                                       keep_s=CHUNK_S, context_s=CONTEXT_S)
        probs, n_samples = stitch(plan, blocks, self._forward, batch_size=BATCH_WINDOWS,
                                  out_dims=(len(self.types),), on_progress=on_progress)
        return FrameProbs(probs, self.types, self.hop_s, n_samples / rate)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated probabilities; (batch, time) -> (batch, types, frames)."""
        with torch.inference_mode():
            raw = torch.sigmoid(self.model(torch.from_numpy(batch))).numpy()
        return calibrate(raw, self.thresholds)

    def _rows(self, types: Sequence[str] | None) -> list[int]:
        if types is None:
            return list(range(len(self.types)))
        unknown = [t for t in types if t not in self.types]
        if unknown:
            raise ConfigError(f"unknown defect type(s) {', '.join(unknown)}; this model "
                              f"detects {', '.join(self.types)}")
        return [self.types.index(t) for t in dict.fromkeys(types)]
