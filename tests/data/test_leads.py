"""Synthetic lead lines and their overlay on detection items (hard negatives)."""

from __future__ import annotations

import numpy as np
import torch

from cantata.data.synth.leads import LeadOverlay, lead_line

RATE, HOP = 16000, 320


def test_lead_lines_are_pitched_bounded_and_deterministic():
    a = lead_line(np.random.default_rng(3), RATE * 2, RATE)
    b = lead_line(np.random.default_rng(3), RATE * 2, RATE)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (RATE * 2,) and a.dtype == np.float32
    assert np.abs(a).max() <= 1.0 + 1e-6 and np.sqrt(np.mean(a ** 2)) > 0.1
    spectrum = np.abs(np.fft.rfft(a))
    peak_hz = np.argmax(spectrum) * RATE / len(a)
    assert 50 < peak_hz < 5000


class Items(torch.utils.data.Dataset):
    """Items of 1 s: a vocal in the first half (labels vocal, accompaniment, silence)."""

    def __init__(self, silent: bool = False, rows: int = 3) -> None:
        self.silent, self.rows = silent, rows

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        noise = torch.randn(RATE, generator=torch.Generator().manual_seed(index)) * 0.1
        audio = torch.zeros(RATE) if self.silent else noise
        labels = torch.zeros(3, 1 + RATE // HOP)
        labels[0, :25] = 1
        labels[1] = 0 if self.silent else 1
        labels[2] = 1 if self.silent else 0
        labels = labels[: self.rows]
        mask = torch.ones(labels.shape[1], dtype=torch.bool)
        return {"audio": audio, "labels": labels, "mask": mask}


def test_overlay_adds_leads_and_keeps_the_vocal_label():
    labels = ("vocal", "accompaniment", "silence")
    overlay = LeadOverlay(Items(), labels=labels, sample_rate=RATE, hop_samples=HOP, p=1.0)
    base = Items()
    changed = 0
    for i in range(len(overlay)):
        item = overlay[i]
        assert item["audio"].shape == (RATE,) and item["audio"].abs().max() <= 1.0
        changed += not torch.allclose(item["audio"], base[i]["audio"])
        vocal = item["labels"][0]
        assert torch.equal(vocal, base[i]["labels"][0]) or vocal.sum() == 0  # alone: no voice
        assert torch.all(item["labels"].sum(0) >= 1)  # every frame something or silence
    assert changed == len(overlay)
    off = LeadOverlay(Items(), labels=labels, sample_rate=RATE, hop_samples=HOP, p=0.0)
    assert torch.equal(off[0]["audio"], base[0]["audio"])


def test_overlay_on_silence_plays_the_lead_alone_as_accompaniment():
    overlay = LeadOverlay(Items(silent=True), labels=("vocal", "accompaniment", "silence"),
                          sample_rate=RATE, hop_samples=HOP, p=1.0, seed=1)
    item = overlay[0]
    assert item["labels"][0].sum() == 0  # never singing
    assert item["labels"][1].sum() > 0 and torch.all(item["labels"][1] + item["labels"][2] == 1)
    binary = LeadOverlay(Items(silent=True, rows=1), labels=("vocal",), sample_rate=RATE,
                         hop_samples=HOP, p=1.0, seed=1)
    assert binary[0]["labels"].shape == (1, 51) and binary[0]["labels"].sum() == 0
