"""Mel, chroma and DCT matrices against librosa and scipy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch

from cantata.features import mel_filterbank
from cantata.features.mel import chroma_filterbank, dct_matrix, hz_to_mel, mel_to_hz

librosa = pytest.importorskip("librosa")

# Both are computed in float64 and stored as float32 (librosa's default dtype); measured
# differences are <= 4e-9 (mel, weights up to ~0.04) and 0 (chroma, weights up to ~1).
FILTERBANK_ATOL = 1e-6


@pytest.mark.parametrize(
    ("sample_rate", "n_fft", "n_mels", "f_min_hz", "f_max_hz"),
    [
        (16000, 1024, 80, 0.0, None),
        (22050, 2048, 128, 0.0, None),
        (44100, 2048, 64, 30.0, 16000.0),
        (8000, 512, 40, 300.0, 3000.0),
        (16000, 400, 80, 20.0, 7600.0),
        (16000, 1023, 40, 0.0, 8000.0),
    ],
)
def test_mel_filterbank_matches_librosa(
    sample_rate: int, n_fft: int, n_mels: int, f_min_hz: float, f_max_hz: float | None
) -> None:
    ours = mel_filterbank(
        sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, f_min_hz=f_min_hz, f_max_hz=f_max_hz
    )
    expected = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=f_min_hz, fmax=f_max_hz
    )
    assert ours.dtype == torch.float32
    assert ours.shape == expected.shape == (n_mels, n_fft // 2 + 1)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=FILTERBANK_ATOL)


def test_mel_scale_matches_librosa() -> None:
    freqs_hz = np.array([0.0, 50.0, 999.0, 1000.0, 1001.0, 4000.0, 22050.0])
    np.testing.assert_allclose(hz_to_mel(freqs_hz), librosa.hz_to_mel(freqs_hz), rtol=1e-12)
    mels = np.linspace(0.0, 60.0, 13)
    np.testing.assert_allclose(mel_to_hz(mels), librosa.mel_to_hz(mels), rtol=1e-12)
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(freqs_hz)), freqs_hz, rtol=1e-12)


@pytest.mark.parametrize(
    ("sample_rate", "n_fft", "n_chroma"),
    [
        (16000, 1024, 12),
        (22050, 2048, 12),
        (44100, 4096, 24),
        (16000, 1023, 12),
        (8000, 256, 36),
        (16000, 2048, 7),  # odd: exercises the rounding of n_chroma / 2
    ],
)
def test_chroma_filterbank_matches_librosa(sample_rate: int, n_fft: int, n_chroma: int) -> None:
    ours = chroma_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_chroma=n_chroma)
    expected = librosa.filters.chroma(sr=sample_rate, n_fft=n_fft, n_chroma=n_chroma, tuning=0.0)
    assert ours.dtype == torch.float32
    assert ours.shape == expected.shape == (n_chroma, n_fft // 2 + 1)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=FILTERBANK_ATOL)


def test_chroma_row_zero_is_c() -> None:
    # The FFT bin nearest middle C (261.63 Hz) must weigh most on row 0.
    fb = chroma_filterbank(sample_rate=16000, n_fft=4096)
    c4_bin = round(261.63 * 4096 / 16000)
    assert int(fb[:, c4_bin].argmax()) == 0


@pytest.mark.parametrize(("n_mfcc", "n_mels"), [(20, 80), (13, 40), (40, 40)])
def test_dct_matrix_matches_scipy(n_mfcc: int, n_mels: int) -> None:
    x = np.random.default_rng(0).standard_normal((n_mels, 7))
    ours = dct_matrix(n_mfcc, n_mels).double().numpy() @ x
    expected = scipy.fft.dct(x, type=2, norm="ortho", axis=0)[:n_mfcc]
    # float32 matrix entries: ~1e-7 relative rounding per entry.
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6)


def test_full_dct_matrix_is_orthonormal() -> None:
    basis = dct_matrix(32, 32).double()
    torch.testing.assert_close(
        basis @ basis.T, torch.eye(32, dtype=torch.float64), atol=1e-6, rtol=0
    )


def test_mel_filterbank_logs_empty_bands(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="cantata.features.mel"):
        fb = mel_filterbank(sample_rate=16000, n_fft=256, n_mels=128)
    assert "cover no FFT bin" in caplog.text
    assert int((fb.sum(dim=1) == 0).sum()) > 0
    caplog.clear()
    with caplog.at_level("WARNING", logger="cantata.features.mel"):
        mel_filterbank(sample_rate=16000, n_fft=1024, n_mels=80)
    assert caplog.text == ""
