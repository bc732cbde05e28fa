"""Training a mask separator: mixtures in, vocal and accompaniment estimates out.

Batches are ``{"mixture", "vocals", "accompaniment"}``, float32 (batch, channels, time)
at the model rate (the items of :class:`~cantata.data.mixing.DynamicMixDataset` or of
:class:`FixedMixes`; other keys are ignored). The task computes the STFTs with the
model's own :class:`~cantata.features.FeatureConfig`.

Losses, by name, summed with ``+`` (e.g. ``"l1+sisdr"``):

- ``"l1"``: mean |estimated - true| magnitude of both stems, relative to the mean
  mixture magnitude of the item (the default);
- ``"mse"``: mean squared error between the predicted and the ideal mask;
- ``"mrstft"``: multi-resolution STFT loss on both stems' waveforms;
- ``"sisdr"``: minus the vocals' SI-SDR in units of 10 dB, over items with vocals;
- ``"winsdr"``: minus the vocals' plain SDR of each 1 s window in units of 10 dB (capped
  at 30 dB), averaged over windows with vocals — what BSS Eval v4 scores and takes the
  median of, so quiet stretches of singing count as much as loud ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from cantata.data.augment import to_channels
from cantata.data.records import Example
from cantata.data.sources import read_stems
from cantata.errors import ConfigError
from cantata.features import stft
from cantata.models.masks import apply_masks, complement, ideal_masks
from cantata.models.separator import MaskUNet
from cantata.separate.losses import (
    magnitude_l1,
    multi_resolution_stft_loss,
    sdr,
    si_sdr,
    windowed_sdr,
    windows,
)
from cantata.separate.phase import two_stems

LOSSES: tuple[str, ...] = ("l1", "mse", "mrstft", "sisdr", "winsdr")
"""Loss terms a :class:`SeparationTask` can sum."""

#: a stem quieter than this fraction of the mixture's energy counts as silent in metrics
SILENT_RATIO = 1e-4


def parse_loss(loss: str) -> tuple[str, ...]:
    """``"l1+sisdr"`` -> ``("l1", "sisdr")``; raises ConfigError on an unknown term."""
    terms = tuple(term.strip() for term in loss.split("+"))
    unknown = [term for term in terms if term not in LOSSES]
    if unknown or not terms:
        raise ConfigError(f"loss must be terms of {list(LOSSES)} joined by '+', got {loss!r}")
    return terms


class SeparationTask:
    """Mask separation with a selectable loss; selects on the vocals' median SI-SDR.

    Args:
        loss: loss terms joined by ``+`` (see the module docstring).
    """

    metric = "val_si_sdr_vocals"
    higher_is_better = True

    def __init__(self, loss: str = "l1") -> None:
        self.loss = loss
        self.terms = parse_loss(loss)

    def forward(self, model: MaskUNet, batch: dict[str, torch.Tensor], *,
                waveforms: bool = False) -> dict[str, torch.Tensor]:
        """Loss terms (scalars) and ``loss`` (their sum); with ``waveforms``, or when a
        term needs them, also ``estimates`` (batch, stems, channels, time) in
        ``config.stems`` order.
        """
        f = model.config.features
        mixture = batch["mixture"]
        refs = torch.stack([batch[name] for name in model.config.stems], dim=1)  # (B, S, C, N)
        spec = stft(mixture, n_fft=f.n_fft, hop_length=f.hop_length, window=f.window,
                    center=f.center)  # (B, C, F, T)
        mask = model.mask(spec.abs())
        est = apply_masks(spec, complement(mask))  # (B, S, C, F, T)
        if waveforms or {"mrstft", "sisdr", "winsdr"} & set(self.terms):
            wavs = two_stems(est[:, 0], mixture, model.config.phase_steps,
                             hop_length=f.hop_length, window=f.window,
                             center=f.center)  # (B, S, C, N), as the separator puts them out
        ref_spec = stft(refs, n_fft=f.n_fft, hop_length=f.hop_length, window=f.window,
                        center=f.center) if {"l1", "mse"} & set(self.terms) else None
        terms: dict[str, torch.Tensor] = {}
        for term in self.terms:
            if term == "l1":
                terms[term] = magnitude_l1(est, ref_spec, spec.abs().flatten(1).mean(1))
            elif term == "mse":
                ideal = ideal_masks(spec, ref_spec, model.config.mask,
                                    limit=model.config.mask_limit)[:, 0]
                terms[term] = (mask - ideal).abs().pow(2).mean()
            elif term == "mrstft":
                terms[term] = multi_resolution_stft_loss(wavs, refs)
            elif term == "winsdr":
                terms[term] = _window_sdr_loss(wavs[:, 0], refs[:, 0], mixture,
                                               f.sample_rate)
            else:
                vocals, reference = wavs[:, 0].flatten(1), refs[:, 0].flatten(1)
                valid = _audible(reference, mixture.flatten(1)).float()
                scores = si_sdr(vocals, reference)
                terms[term] = -(scores * valid).sum() / valid.sum().clamp_min(1) / 10
        out = {**terms, "loss": torch.stack(list(terms.values())).sum()}
        return {**out, "estimates": wavs} if waveforms else out

    def training_step(self, model: nn.Module, batch: dict[str, torch.Tensor]
                      ) -> tuple[torch.Tensor, dict[str, float]]:
        out = self.forward(model, batch)  # type: ignore[arg-type]
        return out["loss"], {f"loss/{term}": float(out[term].detach()) for term in self.terms}

    def evaluate(self, model: nn.Module, batches: Iterable[dict[str, torch.Tensor]]
                 ) -> dict[str, float]:
        """Median per-item SI-SDR and SDR (dB) of each stem, and the mean loss.

        An item counts for a stem only where that stem is audible (see
        :data:`SILENT_RATIO`).
        """
        stems: tuple[str, ...] = model.config.stems  # type: ignore[assignment]
        scores: dict[str, list[np.ndarray]] = {}
        losses = []
        for batch in batches:
            with torch.no_grad():
                out = self.forward(model, batch, waveforms=True)  # type: ignore[arg-type]
            losses.append(float(out["loss"]))
            mixture = batch["mixture"].flatten(1)
            for i, name in enumerate(stems):
                est, ref = out["estimates"][:, i].flatten(1), batch[name].flatten(1)
                keep = _audible(ref, mixture)
                scores.setdefault(f"val_si_sdr_{name}", []).append(si_sdr(est, ref)[keep].numpy())
                scores.setdefault(f"val_sdr_{name}", []).append(sdr(est, ref)[keep].numpy())
        metrics = {"val_loss": float(np.mean(losses))}
        for key, values in scores.items():
            flat = np.concatenate(values)
            metrics[key] = float(np.median(flat)) if flat.size else float("nan")
        return metrics


def _window_sdr_loss(estimate: torch.Tensor, reference: torch.Tensor, mixture: torch.Tensor,
                     sample_rate: int) -> torch.Tensor:
    """Minus the mean windowed SDR / 10 over audible 1 s windows (shorter items: one
    window of their length). Shapes: (batch, channels, time) each -> scalar."""
    window = min(sample_rate, mixture.shape[-1])
    scores = windowed_sdr(estimate, reference, window)  # (B, W)
    valid = _audible(windows(reference, window), windows(mixture, window)).float()  # (B, W)
    return -(scores * valid).sum() / valid.sum().clamp_min(1) / 10


def _audible(reference: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
    """(batch,) bool: the reference holds at least SILENT_RATIO of the mixture's energy."""
    return reference.pow(2).sum(-1) > SILENT_RATIO * mixture.pow(2).sum(-1).clamp_min(1e-12)


class FixedMixes(torch.utils.data.Dataset):
    """Deterministic 0 dB mixes of whole recordings, cut into windows, for validation.

    Vocals and accompaniment are scaled to equal energy (the MIR-1K protocol), the pair
    to a peak of 0.5, and each recording is cut into ``window_s`` windows; the last
    window is zero-padded and kept when it holds at least a second.

    Items: ``mixture``, ``vocals``, ``accompaniment``, float32 (channels, samples).
    """

    def __init__(self, examples: Sequence[Example], *, sample_rate: int, n_channels: int = 1,
                 window_s: float = 8.0) -> None:
        self.items: list[dict[str, torch.Tensor]] = []
        n = round(window_s * sample_rate)
        for example in examples:
            stems = read_stems(example, sample_rate=sample_rate)
            vocals, backing = (to_channels(stems[k].samples, n_channels)
                               for k in ("vocals", "accompaniment"))
            length = min(vocals.shape[1], backing.shape[1])
            vocals, backing = vocals[:, :length], backing[:, :length]
            vocals = vocals / (np.sqrt(np.mean(vocals**2)) + 1e-9)
            backing = backing / (np.sqrt(np.mean(backing**2)) + 1e-9)
            gain = 0.5 / max(float(np.abs(vocals + backing).max()), 1e-9)
            for start in range(0, length, n):
                if length - start < min(n, sample_rate):
                    break
                v, a = (np.zeros((n_channels, n), np.float32) for _ in range(2))
                v[:, : length - start] = gain * vocals[:, start: start + n]
                a[:, : length - start] = gain * backing[:, start: start + n]
                self.items.append({"mixture": torch.from_numpy(v + a),
                                   "vocals": torch.from_numpy(v),
                                   "accompaniment": torch.from_numpy(a)})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.items[index]
