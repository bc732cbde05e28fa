"""Tiny generated libraries for scan tests."""

from __future__ import annotations

import pytest
import soundfile as sf

from cantata.testing import noise

DEBUG = "detect=debug,separate=debug"


def write_library(root, n, *, seconds=0.5, corrupt=(), rate=16000):
    """``n`` short noise files in wav/flac under ``root`` (some in a subfolder), and
    the ``corrupt`` names as broken files. Returns every path."""
    paths = []
    for i in range(n):
        folder = root / ("sub" if i % 3 == 0 else "")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"track{i:03d}.{'flac' if i % 2 else 'wav'}"
        wav = noise(duration_s=seconds, sample_rate=rate, n_channels=1 + i % 2, seed=i)
        sf.write(str(path), wav.samples.T, rate)
        paths.append(path)
    for name in corrupt:
        path = root / name
        path.write_bytes(b"" if name.startswith("empty") else b"RIFF\x00\x01garbage" * 50)
        paths.append(path)
    return paths


@pytest.fixture
def make_library():
    """:func:`write_library`, for tests that need their own."""
    return write_library


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "library"
    write_library(root, 4, corrupt=["broken.wav"])
    return root
