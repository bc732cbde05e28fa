"""What each capability's network exports as: the net, example inputs, names, sidecar.

The capability registry points each capability's ``export`` at one function here, taking a
model name or checkpoint path and returning an :class:`ExportPlan`; ``cantata export onnx``
writes the plan's graph (:func:`cantata.export.onnx.export_onnx`) and checks ONNX Runtime
against PyTorch on every example input. Models load through the registry's API classes,
so this module imports no capability package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from cantata.capabilities import capability, load, model_path
from cantata.models.registry import load_checkpoint


@dataclass(frozen=True)
class ExportPlan:
    """One network ready to export.

    Attributes:
        net: the core network (one tensor in, one out).
        examples: inputs to check parity on; the first is the one traced. Two or more of
            different sizes along every dynamic axis.
        input_name, output_name: the graph's input and output names.
        dynamic_axes: per name, ``{axis: "name"}`` of the axes that may vary.
        sidecar: JSON-like facts a runtime needs (features, labels, what the output means).
    """

    net: nn.Module
    examples: tuple[Tensor, ...]
    input_name: str
    output_name: str
    dynamic_axes: Mapping[str, Mapping[int, str]]
    sidecar: dict[str, Any]


def _generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def detector(model: str) -> ExportPlan:
    """Log-mel features (batch, n_mels, frames) -> logits (batch, labels, frames)."""
    found = load(capability("detect").api).from_pretrained(model)
    n_mels, g = found.features.n_mels, _generator()
    return ExportPlan(
        found.model, (torch.randn(1, n_mels, 250, generator=g),
                      torch.randn(2, n_mels, 777, generator=g)),
        "features", "logits",
        {"features": {0: "batch", 2: "frames"}, "logits": {0: "batch", 2: "frames"}},
        {"model": str(model), "features": found.features.to_dict(),
         "labels": list(found.labels), "output": "logits (apply a sigmoid per label)"})


def separator(model: str) -> ExportPlan:
    """STFT magnitudes (batch, channels, freq, frames) -> the first stem's mask (batch,
    channels, parts, freq, frames)."""
    net = load(capability("separate").api).from_pretrained(model).backend.model
    config, g = net.config, _generator()
    first, second = config.stems[0], config.stems[1]
    return ExportPlan(
        net, (torch.rand(1, 2, config.n_freq, 250, generator=g),
              torch.rand(3, 1, config.n_freq, 777, generator=g)),
        "magnitude", "mask",
        {"magnitude": {0: "batch", 1: "channels", 3: "frames"},
         "mask": {0: "batch", 1: "channels", 4: "frames"}},
        {"model": str(model), "features": config.features.to_dict(),
         "stems": list(config.stems), "mask": config.mask, "phase_steps": config.phase_steps,
         "input": "|STFT| of the mixture at features.sample_rate (features.n_fft, "
                  "hop_length, window), (batch, channels, freq, frames)",
         "output": f"the {first} mask, (batch, channels, parts, freq, frames): parts = 1 for "
                   "irm and psm (real), 2 for cirm (real, imaginary); multiply the mixture "
                   f"STFT by it for {first}, then phase_steps times put its magnitudes under "
                   f"the phase of STFT(ISTFT(it)); {second} is the mixture minus that"})


def embedder(model: str) -> ExportPlan:
    """Features of one segment (batch, n_features, frames) -> embeddings (batch, dim)."""
    found = load(capability("embed").api).from_pretrained(model)
    n_features = found.config.n_features
    frames = max(8, round(found.segment_s * found.frames_per_s))
    g = _generator()
    return ExportPlan(
        found.model.embedder, (torch.randn(1, n_features, frames, generator=g),
                               torch.randn(3, n_features, frames + 37, generator=g)),
        "features", "embedding",
        {"features": {0: "batch", 2: "frames"}, "embedding": {0: "batch"}},
        {"model": str(model), "features": found.config.features.to_dict(),
         "segment_s": found.segment_s, "dim": found.dim, "similarity": found.similarity,
         "input": f"features of one {found.segment_s} s segment, mono at "
                  "features.sample_rate, (batch, n_features, frames)",
         "output": "the segment's embedding, (batch, dim)"})


def continuer(model: str) -> ExportPlan:
    """Embeddings of consecutive segments (batch, steps, dim) -> each step's prediction of
    the next one (batch, steps, dim)."""
    net, checkpoint = load_checkpoint(model_path(model, "continue"))
    dim, g = net.config.dim, _generator()
    return ExportPlan(
        net, (torch.randn(1, 12, dim, generator=g), torch.randn(2, 5, dim, generator=g)),
        "embeddings", "next",
        {"embeddings": {0: "batch", 1: "steps"}, "next": {0: "batch", 1: "steps"}},
        {"model": str(model), "embedder": checkpoint.meta.get("embedder"),
         "input": "embeddings of consecutive segments of one piece, (batch, steps, dim)",
         "output": "at each step, the predicted embedding of the next segment"})


def defect_detector(model: str) -> ExportPlan:
    """Log-mel and frame features (batch, n_mels + n_raw, frames) -> logits (batch, types,
    frames)."""
    from cantata.models.defect_detector import FromInputs

    found = load(capability("defects").api).from_pretrained(model)
    config, g = found.model.config, _generator()
    rate = config.features.sample_rate
    with torch.no_grad():
        examples = tuple(found.model.inputs(0.1 * torch.randn(batch, seconds * rate, generator=g))
                         for batch, seconds in ((1, 3), (2, 7)))
    return ExportPlan(
        FromInputs(found.model).eval(), examples, "inputs", "logits",
        {"inputs": {0: "batch", 2: "frames"}, "logits": {0: "batch", 2: "frames"}},
        {"model": str(model), "features": config.features.to_dict(),
         "types": list(config.types), "thresholds": [float(t) for t in found.thresholds],
         "input": f"mono audio at features.sample_rate: its log-mel (features) stacked over "
                  f"cantata.models.defect_detector.frame_features(hop=features.hop_length, "
                  f"window=features.n_fft, sub_blocks={config.sub_blocks}), (batch, "
                  f"{config.features.n_mels + config.n_raw}, frames)",
         "output": "logits (apply a sigmoid per type; thresholds: each type's decision "
                   "threshold, calibrated on validation)"})


def tagger(model: str) -> ExportPlan:
    """Log-mel of chunks (batch, n_mels, frames) -> logits (batch, tags)."""
    found = load(capability("tag").api).from_pretrained(model)
    config, g = found.config, _generator()
    frames = config.chunk_frames
    return ExportPlan(
        found.model, (torch.randn(1, config.features.n_mels, frames, generator=g),
                      torch.randn(3, config.features.n_mels, frames + 37, generator=g)),
        "features", "logits",
        {"features": {0: "batch", 2: "frames"}, "logits": {0: "batch"}},
        {"model": str(model), "features": config.features.to_dict(), "tags": list(found.tags),
         "thresholds": [float(t) for t in found.thresholds], "chunk_s": config.chunk_s,
         "pooling": found.pooling,
         "input": f"log-mel (features) of one {config.chunk_s} s chunk, mono at "
                  "features.sample_rate, (batch, n_mels, frames); chunks back to back",
         "output": "logits (apply a sigmoid per tag; pool the chunks' probabilities over "
                   "the song with `pooling`; a tag is present when its song score reaches "
                   "its threshold, calibrated on validation)"})


class _OfflineMask(nn.Module):
    """A restorer's mask over a whole sequence from the initial state (one tensor in and
    out; the streaming state stays in PyTorch)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, magnitude: Tensor) -> Tensor:
        return self.net(magnitude)[0]


def restorer(model: str) -> ExportPlan:
    """STFT magnitudes (batch, freq, frames) -> the denoising mask (batch, freq, frames)."""
    found = load(capability("restore").api).from_pretrained(model, declick=False)
    config, g = found.model.config, _generator()
    return ExportPlan(
        _OfflineMask(found.model), (torch.rand(1, config.n_freq, 250, generator=g),
                                    torch.rand(2, config.n_freq, 777, generator=g)),
        "magnitude", "mask",
        {"magnitude": {0: "batch", 2: "frames"}, "mask": {0: "batch", 2: "frames"}},
        {"model": str(model), "sample_rate": config.sample_rate, "n_fft": config.n_fft,
         "hop_length": config.hop_length, "window": "periodic hann, center=False",
         "strength": found.strength, "floor_db": found.floor_db,
         "input": "|STFT| of one channel at sample_rate, (batch, freq, frames), frames "
                  "from the start of the stream",
         "output": "the mask in [0, 1], (batch, freq, frames); the gain applied is "
                   "max(mask ** strength, 10 ** (floor_db / 20))"})
