"""Synthetic lead lines that no voice sang: hard negatives for the singing detector.

A melodic synth lead (pulse, sawtooth or triangle waves, a vibrato sine like a whistle or
a flute, an FM bell), held notes and glides included, is what a detector that learnt
"a pitched line over the music" takes for singing. :func:`lead_line` draws one;
:class:`LeadOverlay` lays such lines over a detection dataset's items (or replaces an item
with a lead alone) without touching the vocal labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from cantata.data.labels import SONG_LABELS

WAVES = ("pulse", "saw", "triangle", "vibrato-sine", "fm")


def lead_line(rng: np.random.Generator, n_samples: int, sample_rate: int) -> np.ndarray:
    """A random lead line of ``n_samples``: notes of 0.1-1.5 s on a pentatonic or major
    scale, some held through, some gliding, with rests. -> (n_samples,) float32 in [-1, 1]."""
    wave = WAVES[int(rng.integers(len(WAVES)))]
    scale = (np.array([0, 2, 4, 7, 9, 12]) if rng.random() < 0.5
             else np.array([0, 2, 4, 5, 7, 9, 11, 12]))
    root = rng.uniform(45, 84)
    duty = rng.uniform(0.1, 0.5)
    vibrato_hz, vibrato_depth = rng.uniform(4, 7), rng.uniform(0.002, 0.012)
    out = np.zeros(n_samples, np.float32)
    phase, pitch, t = 0.0, root, 0
    while t < n_samples:
        length = min(n_samples - t, round(rng.uniform(0.1, 1.5) * sample_rate))
        target = root + scale[int(rng.integers(len(scale)))] + 12 * int(rng.integers(-1, 2)) * (
            rng.random() < 0.2)
        k = np.arange(length) / sample_rate
        glide = rng.random() < 0.25
        midi = (pitch + (target - pitch) * np.minimum(1, k / 0.08)) if glide else \
            np.full(length, target)
        f0 = 440 * 2 ** ((midi - 69) / 12)
        if wave in ("vibrato-sine", "fm") or rng.random() < 0.3:
            f0 = f0 * (1 + vibrato_depth * np.sin(2 * np.pi * vibrato_hz * k))
        ph = phase + 2 * np.pi * np.cumsum(f0) / sample_rate
        cycle = (ph / (2 * np.pi)) % 1
        tone = {"pulse": np.where(cycle < duty, 1.0, -1.0),
                "saw": 2 * cycle - 1,
                "triangle": 1 - 4 * np.abs(cycle - 0.5),
                "vibrato-sine": np.sin(ph),
                "fm": np.sin(ph + 2.0 * np.exp(-k / 0.3) * np.sin(2 * ph))}[wave]
        release = rng.uniform(0.01, 0.1)
        envelope = np.clip(np.minimum(k / 0.01, (length / sample_rate - k) / release), 0, 1)
        out[t:t + length] = tone * envelope
        phase, pitch = float(ph[-1]), float(target)
        t += length
        if rng.random() < 0.25:
            t += round(rng.uniform(0.05, 0.6) * sample_rate)
    return out


class LeadOverlay(torch.utils.data.Dataset):
    """A detection dataset whose items sometimes carry a synthetic lead line.

    With probability ``p`` an item gets a lead line -6..+10 dB against its own audio; a
    quarter of those (and every silent item) hear the lead alone instead. The vocal label
    is never changed; for multi-label items the lead counts as accompaniment wherever it
    sounds (and so is no silence).

    Args:
        dataset: items ``{"audio": (time,), "labels": (labels, frames), "mask"}``.
        labels: the label rows' names (from :data:`SONG_LABELS`).
        sample_rate: of the audio; hop_samples: of the label frames.
        p: probability that an item gets a lead.
        seed: base seed; items depend on (seed, epoch, index).
    """

    def __init__(self, dataset: torch.utils.data.Dataset, *, labels: Sequence[str],
                 sample_rate: int, hop_samples: int, p: float, seed: int = 0) -> None:
        self.dataset, self.p, self.seed, self.epoch = dataset, p, seed, 0
        self.rate, self.hop = sample_rate, hop_samples
        self.rows = {name: i for i, name in enumerate(labels) if name in SONG_LABELS}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = self.dataset[index]
        rng = np.random.default_rng([self.seed, self.epoch, index, 7])
        if rng.random() >= self.p:
            return item
        audio = item["audio"].numpy()
        lead = lead_line(rng, len(audio), self.rate)
        level = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
        alone = level < 1e-4 or rng.random() < 0.25
        if alone:
            mixed = lead * rng.uniform(0.05, 1.0)
        else:
            lead_level = float(np.sqrt(np.mean(lead.astype(np.float64) ** 2))) or 1.0
            mixed = audio + lead * (level / lead_level * 10 ** (rng.uniform(-6, 10) / 20))
            mixed = mixed / max(1.0, float(np.abs(mixed).max()) / 0.99)
        labels = item["labels"].clone()
        if alone and "vocal" in self.rows:
            labels[self.rows["vocal"]] = 0
        sounding = self._frames(np.abs(lead) > 1e-3, labels.shape[-1])
        if "accompaniment" in self.rows:
            row = labels[self.rows["accompaniment"]]
            labels[self.rows["accompaniment"]] = (row * (not alone)).maximum(sounding)
        if "silence" in self.rows:
            vocal = labels[self.rows["vocal"]] if "vocal" in self.rows else 0
            accompaniment = labels[self.rows["accompaniment"]] if "accompaniment" in \
                self.rows else sounding
            labels[self.rows["silence"]] = 1 - torch.clamp(vocal + accompaniment, max=1)
        return {**item, "audio": torch.from_numpy(np.ascontiguousarray(mixed, np.float32)),
                "labels": labels}

    def _frames(self, active: np.ndarray, n_frames: int) -> torch.Tensor:
        """Frame i (centred on i * hop) is on if the lead sounds in its hop."""
        starts = np.clip(np.arange(n_frames) * self.hop - self.hop // 2, 0, len(active))
        cumulative = np.concatenate([[0], np.cumsum(active)])
        ends = np.clip(starts + self.hop, 0, len(active))
        return torch.from_numpy((cumulative[ends] - cumulative[starts] > 0).astype(np.float32))
