"""Essentia's rule-based defect detectors, as a peer of Cantata's rules and model.

Five detectors of Essentia's standard mode run frame by frame over every channel
(``FrameGenerator`` frames starting at sample 0, whole frames only, with the frame and hop
sizes of Essentia's defaults: 512 / 256, ``GapsDetector`` 2048 / 1024), and their output
becomes :class:`~cantata.defects.rules.DefectEvent` s with our type names
(:data:`ESSENTIA_TYPES`):

========================  ================  ======================================
Essentia                  type              its output
========================  ================  ======================================
ClickDetector             ``click``         starts / ends, seconds
GapsDetector              ``dropout``       starts / ends, seconds
SaturationDetector        ``clipping``      starts / ends, seconds
DiscontinuityDetector     ``discontinuity`` sample indexes in the frame
NoiseBurstDetector        ``noise_burst``   indexes of noisy samples in the frame
========================  ================  ======================================

Essentia gives no confidence: every event has confidence 1. Events of one type closer than
:data:`MERGE_S` are joined, as :mod:`cantata.defects.rules` joins its own (Essentia's
saturation and noise-burst outputs come in pieces of a few samples).

Essentia is optional: ``pip install 'cantata[bench]'``; without it :func:`essentia_events`
raises a :class:`~cantata.errors.CantataError` naming the extra.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cantata.defects.rules import DefectEvent, as_channels, merge_events
from cantata.errors import CantataError, ConfigError
from cantata.types import Waveform

#: each Essentia detector by the type it finds
ESSENTIA_TYPES = {
    "ClickDetector": "click", "GapsDetector": "dropout", "SaturationDetector": "clipping",
    "DiscontinuityDetector": "discontinuity", "NoiseBurstDetector": "noise_burst",
}

#: events of one type closer than this (seconds) are one event
MERGE_S = {"click": 0.002, "dropout": 0.0, "clipping": 0.25, "discontinuity": 0.0,
           "noise_burst": 0.05}


@dataclass(frozen=True)
class Frames:
    """How one detector is framed: Essentia's defaults (``GapsDetector``: 2048 / 1024)."""

    frame_size: int = 512
    hop_size: int = 256


FRAMES = {"GapsDetector": Frames(2048, 1024)}


def essentia_available() -> bool:
    """Whether Essentia can be imported."""
    try:
        _standard()
    except CantataError:
        return False
    return True


def _standard() -> Any:
    """``essentia.standard``, imported on first use, quietly."""
    try:
        essentia = importlib.import_module("essentia")
    except ImportError as err:
        raise CantataError("the Essentia peers need Essentia: pip install 'cantata[bench]'"
                           ) from err
    essentia.log.infoActive = False  # it announces every algorithm it builds
    return importlib.import_module("essentia.standard")


def essentia_events(src: Waveform | np.ndarray, sample_rate: int | None = None, *,
                    types: Sequence[str] | None = None) -> list[DefectEvent]:
    """Essentia's detectors of ``types`` (default: all five) on one input, sorted by start.

    Raises:
        CantataError: Essentia is not installed.
        ConfigError: a type no Essentia detector finds.
    """
    samples, sr = as_channels(src, sample_rate)
    wanted = list(types) if types is not None else list(ESSENTIA_TYPES.values())
    unknown = sorted(set(wanted) - set(ESSENTIA_TYPES.values()))
    if unknown:
        raise ConfigError(f"no Essentia detector finds {', '.join(unknown)}; they find "
                          f"{', '.join(ESSENTIA_TYPES.values())}")
    standard = _standard()
    events = []
    for name, kind in ESSENTIA_TYPES.items():
        if kind in wanted:
            found = [e for x in samples for e in _run(standard, name, x, sr)]
            events += merge_events(found, MERGE_S[kind])
    return sorted(events, key=lambda e: (e.start_s, e.type))


def _run(standard: Any, name: str, x: np.ndarray, sr: int) -> list[DefectEvent]:
    """One detector over one channel, frame by frame; events in seconds."""
    frames = FRAMES.get(name, Frames())
    detector = getattr(standard, name)(**_parameters(name, frames, sr))
    x = np.ascontiguousarray(x, dtype=np.float32)
    kind, spans = ESSENTIA_TYPES[name], []
    for i, frame in enumerate(standard.FrameGenerator(
            x, frameSize=frames.frame_size, hopSize=frames.hop_size, startFromZero=True,
            validFrameThresholdRatio=1)):  # whole frames: zero padding would end in a step
        out = detector(frame)
        if name in ("DiscontinuityDetector", "NoiseBurstDetector"):
            at = (i * frames.hop_size + np.asarray(out[0] if isinstance(out, tuple) else out,
                                                  np.float64)) / sr
            spans += [(t, t + 1 / sr) for t in at]
        else:
            spans += list(zip(np.asarray(out[0], np.float64), np.asarray(out[1], np.float64),
                              strict=True))
    duration = len(x) / sr
    return [DefectEvent(kind, float(min(a, duration)), float(min(max(a, b), duration)))
            for a, b in sorted(spans)]


def _parameters(name: str, frames: Frames, sr: int) -> dict[str, Any]:
    """The configuration of one detector: its framing and, where it takes one, the rate."""
    if name == "NoiseBurstDetector":
        return {}
    parameters: dict[str, Any] = {"frameSize": frames.frame_size, "hopSize": frames.hop_size}
    if name != "DiscontinuityDetector":
        parameters["sampleRate"] = float(sr)
    return parameters
