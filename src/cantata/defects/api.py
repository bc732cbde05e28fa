"""The defect detection API: load a defect detector once, get events and a verdict per file.

Long files are decoded block by block and run in overlapping windows of one length (each
sees a couple of seconds of context on both sides, which is then dropped), a batch at a
time (:func:`cantata.engine.stitch`), so a file of any length runs in bounded memory.
The same decoded blocks, at the file's own rate and channels, go through the rule detectors
(:mod:`cantata.defects.rules`), for the types whose decision uses them. Each type's events
then come from the model, the rules, or the rules confirmed by the model, as calibrated on
validation events when the model was trained (:mod:`cantata.defects.decision`); frame
probabilities are calibrated per type (the model threshold lands on 0.5) and fused into
events (:mod:`cantata.defects.postprocess`), and the events into a song verdict.

Example:
    >>> detector = DefectDetector.from_pretrained("debug")          # doctest: +SKIP
    >>> report = detector.detect("song.mp3")                         # doctest: +SKIP
    >>> report.verdict.defective, report.events[:1]                  # doctest: +SKIP
    (True, [DefectEvent(type='click', start_s=12.34, end_s=12.352, confidence=0.97)])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch

from cantata import audio
from cantata.capabilities import capability, load, model_path
from cantata.data.labels import DEFECT_TYPES
from cantata.defects.decision import Decision, calibrated, events_of, song_score
from cantata.defects.postprocess import FusionConfig, Verdict, verdict
from cantata.defects.rules import BlockRules, DefectEvent, resolve
from cantata.defects.verifier import scored_peaks
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
    """What the model and the rules found in one recording, before the decisions.

    Attributes:
        probs: (types, frames) calibrated frame probabilities; frame i is centred on
            ``i * hop_s``; 0.5 is each type's model threshold.
        types: one defect type per row.
        hop_s: frame hop in seconds.
        duration_s: length of the recording.
        rule_events: the rules' events, for the types whose decision uses them.
        peaks: the candidate verifier's scored candidates, when a decision uses them.
    """

    probs: np.ndarray
    types: tuple[str, ...]
    hop_s: float
    duration_s: float
    rule_events: tuple[DefectEvent, ...] = ()
    peaks: tuple[DefectEvent, ...] = ()


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
    """A defect detector network, the rules, and each type's decision between them.

    ``verify`` runs the model's candidate verifier over the residual outliers (default:
    when a decision is ``verified``; calibration asks for it always).
    """

    def __init__(self, model: torch.nn.Module, *, name: str = "",
                 decisions: Mapping[str, Decision] | None = None,
                 fusion: FusionConfig | None = None, verify: bool | None = None) -> None:
        self.model = model.eval()
        self.name = name
        self.types: tuple[str, ...] = tuple(model.config.types)
        unknown = sorted(set(decisions or {}) - set(self.types))
        if unknown:
            raise ConfigError(f"decisions for unknown defect type(s) {', '.join(unknown)}; "
                              f"this model detects {', '.join(self.types)}")
        self.decisions = tuple((decisions or {}).get(t, Decision()) for t in self.types)
        self.fusion = fusion or FusionConfig()
        wanted = any(d.source == "verified" for d in self.decisions) if verify is None else verify
        if wanted and getattr(model, "verifier", None) is None:
            raise ConfigError("a verified decision needs a model with a candidate verifier "
                              "(model.verifier_hidden > 0)")
        self.verify = wanted

    @property
    def thresholds(self) -> np.ndarray:
        """Each type's model threshold (types,)."""
        return np.array([d.threshold for d in self.decisions])

    @property
    def rule_types(self) -> tuple[str, ...]:
        """The types whose events the rules propose."""
        return tuple(t for t, d in zip(self.types, self.decisions, strict=True)
                     if d.source in ("rules", "confirmed"))

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str] | None = None, *,
                        fusion: FusionConfig | None = None) -> DefectDetector:
        """Load a shipped model by name, a debug model (``"debug"``) or a checkpoint, with
        its decisions (``meta["decision"]``; a checkpoint without them uses the model for
        every type, at the thresholds of its validation, ``threshold/<type>``).

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
        return cls(model, name=name, decisions=decisions_of(checkpoint.meta), fusion=fusion)

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
        """Events and verdict of what the model and the rules found, for ``types``
        (default: all)."""
        rows = self._rows(types)
        names = tuple(self.types[i] for i in rows)
        found = resolve(e for i in range(len(self.types)) for e in events_of(
            self.decisions[i], self.types[i], frames.probs[i], frames.rule_events,
            hop_s=frames.hop_s, duration_s=frames.duration_s, fusion=self.fusion,
            peaks=frames.peaks))  # one defect, one event, whichever type's source found it
        events = sorted((e for e in found if e.type in names),
                        key=lambda e: (e.start_s, self.types.index(e.type)))
        score = song_score(events, frames.probs[rows], names, [self.decisions[i] for i in rows])
        return DefectReport(events, verdict(events, types=names, score=score),
                            frames.duration_s, self.name)

    def frame_probs(self, src: Source, sr: int | None = None, *,
                    sample_rate: int | None = None,
                    on_progress: Progress | None = None) -> FrameProbs:
        """Calibrated frame probabilities and the rules' events (as :meth:`detect` takes
        its input), from one pass over the audio."""
        src, rate = as_source(src, sr, sample_rate=sample_rate), self.sample_rate
        native: Iterable[Waveform] = ([src] if isinstance(src, Waveform)
                                      else audio.stream(src, block_s=DECODE_BLOCK_S))
        rules = BlockRules(types=self.rule_types) if self.rule_types else None
        peaks = (BlockRules(find=partial(scored_peaks, verifier=self.model.verifier),
                            merge=False) if self.verify else None)
        plan = StitchPlan.from_seconds(sample_rate=rate, hop=self.model.config.features.hop_length,
                                       keep_s=CHUNK_S, context_s=CONTEXT_S)
        probs, n_samples = stitch(plan, self._model_blocks(native, (rules, peaks)),
                                  self._forward, batch_size=BATCH_WINDOWS,
                                  out_dims=(len(self.types),), on_progress=on_progress)
        return FrameProbs(probs, self.types, self.hop_s, n_samples / rate,
                          tuple(rules.events()) if rules is not None else (),
                          tuple(peaks.events()) if peaks is not None else ())

    def _model_blocks(self, native: Iterable[Waveform],
                      examiners: Sequence[BlockRules | None]) -> Iterator[np.ndarray]:
        """The model's mono blocks at its rate, each native block shown to the rules and
        the verifier on the way."""
        resampler = None
        for block in native:
            for examiner in examiners:
                if examiner is not None:
                    examiner.push(block)
            if resampler is None:
                resampler = audio.StreamResampler(block.sample_rate, self.sample_rate, 1)
            yield resampler.push(block.to_mono())[0]
        if resampler is not None:
            yield resampler.flush()[0]

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated probabilities; (batch, time) -> (batch, types, frames)."""
        with torch.inference_mode():
            raw = torch.sigmoid(self.model(torch.from_numpy(batch))).numpy()
        return calibrated(raw, self.decisions)

    def _rows(self, types: Sequence[str] | None) -> list[int]:
        if types is None:
            return list(range(len(self.types)))
        unknown = [t for t in types if t not in self.types]
        if unknown:
            raise ConfigError(f"unknown defect type(s) {', '.join(unknown)}; this model "
                              f"detects {', '.join(self.types)}")
        return [self.types.index(t) for t in dict.fromkeys(types)]


def decisions_of(meta: Mapping[str, Any]) -> dict[str, Decision]:
    """A checkpoint's decisions: ``meta["decision"]`` (type -> :class:`Decision` dict), or
    else the model at each type's validation threshold (``threshold/<type>`` of its
    training metrics)."""
    if "decision" in meta:
        return {t: Decision.from_dict(d) for t, d in meta["decision"].items()}
    metrics = meta.get("training", {}).get("metrics", {})
    return {k.split("/", 1)[1]: Decision("model", threshold=float(v))
            for k, v in metrics.items() if k.startswith("threshold/")}
