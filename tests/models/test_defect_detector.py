"""The defect detector network: shapes, frame alignment, what its frame features see."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cantata.defects import DEFECT_TYPES
from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig
from cantata.models.defect_detector import (
    N_SCALAR_FEATURES,
    DefectDetector,
    DefectDetectorConfig,
    debug_defect_detector,
    frame_features,
)
from cantata.models.detector import FrontConfig
from cantata.models.pooling import POOLINGS
from cantata.models.registry import build, load_checkpoint, save_checkpoint

RATE, HOP = 16000, 160
#: rows of frame_features
DC, PEAK, NEAR_MAX, CLICK, QUIETEST = 0, 3, 4, 5, 7


def _music(seconds: float = 1.0) -> torch.Tensor:
    t = torch.arange(round(seconds * RATE)) / RATE
    return (0.3 * torch.sin(2 * np.pi * 220 * t) + 0.1 * torch.sin(2 * np.pi * 1330 * t))[None]


def _features(x: torch.Tensor) -> torch.Tensor:
    return frame_features(x, hop=HOP, window=512, sub_blocks=4)[0]


def test_debug_model_is_tiny_and_outputs_one_row_per_type():
    model = debug_defect_detector()
    assert sum(p.numel() for p in model.parameters()) * 4 < 16_000
    assert model.config.types == DEFECT_TYPES
    assert model(torch.zeros(2, RATE)).shape == (2, len(DEFECT_TYPES), 1 + RATE // HOP)


@pytest.mark.parametrize("n", [1, 5, 159, 160, 161, 4000, 16001])
def test_frames_are_centred_on_multiples_of_the_hop(n):
    x = torch.randn(1, n) * 0.1
    assert debug_defect_detector()(x).shape[-1] == 1 + n // HOP
    assert _features(x).shape == (N_SCALAR_FEATURES + 8, 1 + n // HOP)


def test_a_one_sample_click_stands_out_in_its_frame():
    x = _music()
    clean = _features(x)[CLICK]
    x[0, 50 * HOP + 3] += 0.5
    clicked = _features(x)[CLICK]
    assert int(clicked.argmax()) == 50
    assert clicked[50] > clean.max() + 1.0


def test_a_5ms_dropout_stands_out_in_its_frame():
    x = _music()
    x[0, 50 * HOP: 50 * HOP + 80] = 0.0
    quietest = _features(x)[QUIETEST]
    assert int(quietest.argmin()) == 50
    assert quietest[50] < -5 and quietest[10:40].min() > -3  # bels: below -50 dB vs normal


def test_clipping_and_dc_offset_are_visible():
    x = _music()
    clipped = x.clamp(-0.2, 0.2)
    assert _features(clipped)[NEAR_MAX].mean() > 5 * _features(x)[NEAR_MAX].mean()
    shifted = _features(x + 0.1)[DC]
    assert torch.allclose(shifted[5:-5], torch.full_like(shifted[5:-5], 0.1), atol=0.02)
    assert _features(x)[DC][5:-5].abs().max() < 0.02


def test_recording_edges_do_not_look_like_dropouts():
    quietest = _features(_music())[QUIETEST]
    assert quietest.min() > -3


@pytest.mark.parametrize("pooling", POOLINGS)
def test_every_pooling_gives_clip_probabilities(pooling):
    config = DefectDetectorConfig(**{**_debug_fields(), "pooling": pooling})
    model = DefectDetector(config)
    mask = torch.ones(2, 1 + RATE // HOP, dtype=torch.bool)
    logits, clip = model.pooled(torch.randn(2, RATE) * 0.1, mask)
    assert logits.shape == (2, 7, 101) and clip.shape == (2, 7)
    assert (model.attention is not None) == (pooling == "attention")


def test_checkpoint_round_trip(tmp_path):
    model = debug_defect_detector()
    path = save_checkpoint(tmp_path / "d.pt", model, name="defect-detector",
                           config=model.config, meta={})
    loaded, checkpoint = load_checkpoint(path)
    assert checkpoint.config["pooling"] == "linear_softmax"
    x = torch.randn(1, 4000) * 0.1
    assert torch.allclose(loaded(x), model(x))


def test_default_model_builds_from_the_registry():
    model = build("defect-detector", {})
    assert model.config.features.sample_rate == 22050
    assert model(torch.zeros(1, 22050)).shape == (1, 7, 1 + 22050 // 256)


def test_bad_configs_and_inputs():
    with pytest.raises(ConfigError, match="n_mels"):
        DefectDetectorConfig(front=FrontConfig(n_mels=40))
    with pytest.raises(ConfigError, match="sub_blocks"):
        DefectDetectorConfig(**{**_debug_fields(), "sub_blocks": 7})
    with pytest.raises(ConfigError, match="pooling"):
        DefectDetectorConfig(pooling="median")
    with pytest.raises(ShapeError, match="mono"):
        debug_defect_detector()(torch.zeros(1, 2, 100))


def _debug_fields() -> dict:
    return {"features": FeatureConfig(sample_rate=RATE, n_fft=512, hop_length=HOP, n_mels=32),
            "front": FrontConfig(n_mels=32, channels=(4, 8), freq_pool=(4, 4)),
            "sub_blocks": 4, "raw_channels": 4, "rnn_hidden": 8}
