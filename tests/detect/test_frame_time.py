"""Detected boundaries land where the sound starts and stops: frame i is centred on i * hop.

A detector whose logit is the log-mel frame energy above half the tone's power is active
exactly on the frames whose window holds more than half of the tone, that is whose centre
is inside the burst; a run of those frames [a, b) spans [(a - 1/2) hop, (b - 1/2) hop), so
each boundary is within half a hop of the truth (treating frame i as [i hop, (i + 1) hop)
put them half a hop late on average, up to a whole hop).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cantata.detect.api import VoiceDetector
from cantata.detect.postprocess import PostprocessConfig
from cantata.features import FeatureConfig, FeatureExtractor
from cantata.testing import sine
from cantata.types import Waveform

RATE = 16000
FEATURES = FeatureConfig(kind="logmel", sample_rate=RATE, n_fft=1024, hop_length=320, n_mels=80)
HOP_S = FEATURES.hop_length / RATE
#: no smoothing, no padding, no minimum lengths: regions are the frames above 0.5
AS_IS = PostprocessConfig(threshold_on=0.5, threshold_off=0.5, median_s=0.0, min_region_s=0.0,
                          min_gap_s=0.0)


def frame_energy_db(log_mel: torch.Tensor) -> torch.Tensor:
    """Frame energy in dB from log-mel dB, (batch, n_mels, frames) -> (batch, 1, frames)."""
    return 10 * torch.log10((10 ** (log_mel / 10)).sum(dim=1, keepdim=True))


class EnergyLogit(torch.nn.Module):
    """Logit = frame energy minus ``threshold_db``: a fixed, untrained detector."""

    def __init__(self, threshold_db: float) -> None:
        super().__init__()
        self.threshold_db = threshold_db

    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        return frame_energy_db(log_mel) - self.threshold_db


def half_power_db(tone: Waveform) -> float:
    """Frame energy (dB) of a steady tone minus 3.01 dB: half of the window covers it."""
    with torch.inference_mode():
        energy = frame_energy_db(FeatureExtractor(FEATURES)(torch.from_numpy(tone.samples)))
    return float(energy.median()) - 10 * math.log10(2)


@pytest.mark.parametrize("start_s, end_s", [(1.0, 2.0), (1.005, 2.213), (0.517, 1.631)])
def test_tone_burst_boundaries_within_half_a_hop(start_s, end_s):
    tone = sine(440, duration_s=3.0, sample_rate=RATE, amplitude=0.3)
    x = np.zeros_like(tone.samples)
    x[:, round(start_s * RATE):round(end_s * RATE)] = \
        tone.samples[:, round(start_s * RATE):round(end_s * RATE)]
    detector = VoiceDetector(EnergyLogit(half_power_db(tone)), features=FEATURES,
                             labels=("vocal",), postprocess=AS_IS)

    [region] = detector.detect(Waveform(x, RATE))

    assert region.start_s == pytest.approx(start_s, abs=HOP_S / 2 + 1e-9)
    assert region.end_s == pytest.approx(end_s, abs=HOP_S / 2 + 1e-9)
