"""Training the restorer: noisy audio in, a mask out, scored against the clean audio.

Batches are ``{"clean", "noisy"}``, float32 (batch, time) at the model rate (items of
:class:`NoisyPairs` or :class:`FixedPairs`). The loss compares the masked noisy
magnitude with the target magnitude (the ideal mask of ``config.mask`` times the noisy
magnitude), both raised to ``compress`` (0.3: quiet bins count too), relative to the
item's compressed noisy energy, so every level weighs the same. With a
``suppression_weight`` above 1, a bin masked below its target (music taken away) counts
that many times more than one above it (noise left in): the asymmetric loss of speech
enhancement for recognisers, here so that clean music passes untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from cantata import audio
from cantata.data.records import Example
from cantata.models.restorer import MaskCRNN
from cantata.restore.calibration import score_strength


def ideal_mask(noisy: torch.Tensor, clean: torch.Tensor, kind: str) -> torch.Tensor:
    """The target mask of complex STFTs (same shape): ``"irm"``
    sqrt(|S|^2 / (|S|^2 + |N|^2)) with N = Y - S, or ``"psm"`` Re(S Y*) / |Y|^2, both
    clipped to [0, 1]."""
    if kind == "psm":
        return ((clean * noisy.conj()).real / (noisy.abs().pow(2) + 1e-10)).clamp(0, 1)
    s2, n2 = clean.abs().pow(2), (noisy - clean).abs().pow(2)
    return torch.sqrt(s2 / (s2 + n2 + 1e-10)).clamp(0, 1)


class RestoreTask:
    """Mask estimation with a compressed-magnitude loss; selects on ``val_score``: the
    mean SI-SDR improvement on noisy items, less how far clean items fall below
    :data:`~cantata.restore.calibration.CLEAN_BAR_DB` (at strength 1; the recipe then
    calibrates the strength of the best checkpoint)."""

    metric = "val_score"
    higher_is_better = True

    def __init__(self, compress: float = 0.3, suppression_weight: float = 1.0) -> None:
        self.compress, self.suppression_weight = compress, suppression_weight

    def loss(self, model: MaskCRNN, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        c = model.config
        window = torch.hann_window(c.n_fft, device=batch["noisy"].device)
        noisy, clean = (torch.stft(batch[k], c.n_fft, c.hop_length, window=window,
                                   center=False, return_complex=True)
                        for k in ("noisy", "clean"))  # (B, F, T)
        mask, _ = model(noisy.abs())
        target = ideal_mask(noisy, clean, c.mask)
        mag = noisy.abs().pow(self.compress)
        difference = mask.pow(self.compress) - target.pow(self.compress)
        if self.suppression_weight != 1.0:
            difference = torch.where(difference < 0, difference * self.suppression_weight ** 0.5,
                                     difference)
        error = (difference * mag).pow(2)
        return (error.sum((1, 2)) / (mag.pow(2).sum((1, 2)) + 1e-8)).mean()

    def training_step(self, model: nn.Module, batch: dict[str, torch.Tensor]
                      ) -> tuple[torch.Tensor, dict[str, float]]:
        loss = self.loss(model, batch)  # type: ignore[arg-type]
        return loss, {"loss/mask": float(loss.detach())}

    def evaluate(self, model: nn.Module, batches: Iterable[dict[str, torch.Tensor]]
                 ) -> dict[str, float]:
        """Mean SI-SDR improvement on noisy items, median SI-SDR of clean items passed
        through (both at strength 1), the mean loss and the score."""
        losses, pairs = [], []
        for batch in batches:
            losses.append(float(self.loss(model, batch)))  # type: ignore[arg-type]
            pairs += list(zip(batch["noisy"].cpu().numpy(), batch["clean"].cpu().numpy(),
                              strict=True))
        scores = score_strength(model, pairs, 1.0)
        return {"val_loss": float(np.mean(losses)), "val_sisdri": scores["sisdri"],
                "val_clean_sisdr": scores["clean_sisdr"], "val_score": scores["score"]}


def _read(path: str, rate: int, offset_s: float, n: int) -> np.ndarray:
    """``n`` mono samples at ``rate`` from ``offset_s`` (zero-padded)."""
    x = audio.load(path, sample_rate=rate, mono=True, offset_s=offset_s,
                   duration_s=n / rate).samples[0][:n]
    return np.pad(x, (0, n - x.shape[0])).astype(np.float32)


class NoisyPairs(torch.utils.data.Dataset):
    """Random crops of clean/noisy pairs (examples with ``clean`` and ``noisy`` stems),
    chosen in proportion to their length, at a random level (``gain_db``).

    Items: ``clean``, ``noisy``, float32 (samples,); item ``i`` is a function of ``seed``.
    """

    def __init__(self, examples: Sequence[Example], *, sample_rate: int, segment_s: float,
                 length: int, seed: int = 0, gain_db: tuple[float, float] = (-12.0, 6.0)
                 ) -> None:
        self.examples, self.rate, self.length, self.seed = list(examples), sample_rate, length, seed
        self.n, self.gain_db = round(segment_s * sample_rate), gain_db
        weights = np.array([max(ex.duration_s, 1e-3) for ex in self.examples])
        self.p = weights / weights.sum()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, index])
        ex = self.examples[int(rng.choice(len(self.examples), p=self.p))]
        offset = float(rng.uniform(0, max(0.0, ex.duration_s - self.n / self.rate)))
        clean, noisy = (_read(ex.stems[k], self.rate, offset, self.n) for k in ("clean", "noisy"))
        gain = np.float32(10 ** (rng.uniform(*self.gain_db) / 20))
        peak = max(float(np.abs(noisy).max()), float(np.abs(clean).max()), 1e-9)
        gain = min(gain, np.float32(1.0 / peak))
        return {"clean": torch.from_numpy(clean * gain), "noisy": torch.from_numpy(noisy * gain)}


class FixedPairs(torch.utils.data.Dataset):
    """The first ``window_s`` of each pair (zero-padded), for validation."""

    def __init__(self, examples: Sequence[Example], *, sample_rate: int, window_s: float) -> None:
        n = round(window_s * sample_rate)
        self.items = [{k: torch.from_numpy(_read(ex.stems[k], sample_rate, 0.0, n))
                       for k in ("clean", "noisy")} for ex in examples]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.items[index]
