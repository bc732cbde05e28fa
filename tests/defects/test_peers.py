"""Essentia's detectors as peers: their output in our event shape and type names (skipped
where Essentia is not installed, except the error that names the extra)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from cantata.defects import DEFECT_TYPES, peers
from cantata.errors import CantataError, ConfigError
from cantata.testing.signals import music_like
from cantata.types import Waveform

SR = 44100


@pytest.fixture
def essentia():
    return pytest.importorskip("essentia")


def test_types_are_ours():
    assert set(peers.ESSENTIA_TYPES.values()) <= set(DEFECT_TYPES)
    assert set(peers.MERGE_S) == set(peers.ESSENTIA_TYPES.values())


def test_missing_essentia_names_the_extra(monkeypatch):
    real = importlib.import_module

    def no_essentia(name, *args):
        if name.startswith("essentia"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_essentia)
    assert not peers.essentia_available()
    with pytest.raises(CantataError, match=r"cantata\[bench\]"):
        peers.essentia_events(music_like(duration_s=1.0), SR)


def test_each_detector_finds_its_defect(essentia):
    x = music_like(n_channels=2)
    x[0, round(1.5 * SR)] += 0.5  # click (and a one-sample jump)
    x[1, round(2.5 * SR):round(2.6 * SR)] = 0  # 100 ms gap in the right channel
    x[0, round(4.0 * SR):round(4.5 * SR)] = np.clip(3 * x[0, round(4.0 * SR):round(4.5 * SR)],
                                                    -0.995, 0.995)  # saturation
    n = round(5.2 * SR)
    x[0, n:n + 2000] += 0.3 * np.random.default_rng(1).standard_normal(2000)  # noise burst
    events = peers.essentia_events(Waveform(x, SR))
    assert all(isinstance(e.start_s, float) and e.end_s >= e.start_s for e in events)

    def found(kind: str, at: float, collar: float) -> bool:
        return any(e.type == kind and abs(e.start_s - at) <= collar for e in events)

    assert found("click", 1.5, 0.02)
    assert found("dropout", 2.5, 0.1)
    assert found("clipping", 4.0, 0.1)
    assert found("noise_burst", 5.2, 0.1)
    assert found("discontinuity", 1.5, 0.02)


def test_types_filter_and_nothing_on_clean_music(essentia):
    x = music_like()
    assert peers.essentia_events(x, SR) == []
    x[0, SR * 2:SR * 2 + SR // 10] = 0
    events = peers.essentia_events(x, SR, types=["dropout"])
    assert [e.type for e in events] == ["dropout"]
    assert abs(events[0].start_s - 2.0) < 0.1 and abs(events[0].end_s - 2.1) < 0.1
    with pytest.raises(ConfigError, match="dc_offset"):
        peers.essentia_events(x, SR, types=["dc_offset"])
