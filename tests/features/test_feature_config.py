"""FeatureConfig: validation, serialisation, derived sizes."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig, FeatureExtractor


def test_defaults() -> None:
    cfg = FeatureConfig()
    assert cfg.kind == "logmel"
    assert (cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mels) == (16000, 1024, 320, 80)
    assert cfg.frame_rate_hz == 50.0
    assert cfg.n_features == 80
    assert cfg.effective_win_length == 1024
    assert cfg.effective_f_max_hz == 8000.0


def test_is_frozen() -> None:
    cfg = FeatureConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_mels = 64  # type: ignore[misc]


def test_dict_round_trip_through_json() -> None:
    cfg = FeatureConfig(kind="mfcc", n_fft=512, hop_length=160, win_length=400, top_db=80.0)
    d = cfg.to_dict()
    assert set(d) == {field.name for field in dataclasses.fields(FeatureConfig)}
    restored = FeatureConfig.from_dict(json.loads(json.dumps(d)))
    assert restored == cfg
    assert hash(restored) == hash(cfg)
    assert FeatureConfig.from_dict({}) == FeatureConfig()


def test_int_values_for_float_fields_become_floats() -> None:
    cfg = FeatureConfig(f_min_hz=0, f_max_hz=8000, top_db=80)
    assert isinstance(cfg.f_min_hz, float) and isinstance(cfg.f_max_hz, float)
    assert cfg == FeatureConfig(f_min_hz=0.0, f_max_hz=8000.0, top_db=80.0)


def test_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match=r"\['hop', 'nfft'\]"):
        FeatureConfig.from_dict({"nfft": 512, "hop": 128, "n_mels": 40})


def test_from_dict_rejects_non_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        FeatureConfig.from_dict([("n_fft", 512)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "spectrogram"}, "kind"),
        ({"window": "kaiser"}, "window"),
        ({"sample_rate": 0}, "sample_rate"),
        ({"sample_rate": 16000.0}, "sample_rate"),
        ({"n_fft": -1024}, "n_fft"),
        ({"n_fft": True}, "n_fft"),
        ({"hop_length": 0}, "hop_length"),
        ({"win_length": 0}, "win_length"),
        ({"hop_length": 600, "win_length": 512}, "hop_length"),
        ({"win_length": 2048}, "win_length"),
        ({"n_mels": 0}, "n_mels"),
        ({"f_min_hz": -1.0}, "f_min_hz"),
        ({"f_min_hz": 4000.0, "f_max_hz": 4000.0}, "f_max_hz"),
        ({"f_max_hz": 8001.0}, "f_max_hz"),
        ({"f_min_hz": "20"}, "f_min_hz"),
        ({"n_mfcc": 81}, "n_mfcc"),
        ({"n_chroma": 0}, "n_chroma"),
        ({"amin": 0.0}, "amin"),
        ({"top_db": -1.0}, "top_db"),
        ({"center": 1}, "center"),
    ],
)
def test_bad_values_raise_config_error_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError, match=field):
        FeatureConfig(**overrides)
    with pytest.raises(ConfigError, match=field):
        FeatureConfig.from_dict(overrides)


@pytest.mark.parametrize(
    ("kind", "n_features"), [("stft_mag", 257), ("logmel", 40), ("mfcc", 13), ("chroma", 24)]
)
def test_n_features_per_kind(kind: str, n_features: int) -> None:
    cfg = FeatureConfig(kind=kind, n_fft=512, hop_length=128, n_mels=40, n_mfcc=13, n_chroma=24)
    assert cfg.n_features == n_features
    out = FeatureExtractor(cfg)(torch.zeros(1000))
    assert out.shape[0] == n_features


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("n_samples", [1, 319, 320, 321, 1023, 1024, 1025, 16000, 16001])
def test_n_frames_matches_extractor(center: bool, n_samples: int) -> None:
    cfg = FeatureConfig(kind="stft_mag", center=center)
    if not center and n_samples < cfg.n_fft:
        with pytest.raises(ShapeError, match=str(n_samples)):
            cfg.n_frames(n_samples)
        return
    expected = 1 + n_samples // 320 if center else 1 + (n_samples - 1024) // 320
    assert cfg.n_frames(n_samples) == expected
    out = FeatureExtractor(cfg)(torch.zeros(2, n_samples))
    assert out.shape == (2, cfg.n_features, expected)


def test_n_frames_rejects_no_samples() -> None:
    with pytest.raises(ShapeError):
        FeatureConfig().n_frames(0)
