"""STFT / ISTFT: perfect reconstruction, librosa agreement, batching, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig, istft, stft
from cantata.features.stft import WINDOWS, window_tensor

librosa = pytest.importorskip("librosa")

DEFAULT = FeatureConfig()

# Reconstruction of unit-variance noise, max-abs error. Measured ~1e-6 (float32) and
# ~2e-15 (float64): a few rounding errors of the FFT and the overlap-add normalisation.
RECON_ATOL = {torch.float32: 1e-5, torch.float64: 1e-10}

# STFT vs librosa.stft, max-abs error. float64: both are exact up to ~3e-14 on a signal
# whose STFT peaks near 100. float32: FFT rounding (pocketfft vs torch's backend) grows
# with the peak magnitude; measured ~1e-7 of the peak, allowed 1e-5 of the peak.
STFT64_ATOL = 1e-10
STFT32_ATOL_OF_PEAK = 1e-5


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n_samples", [1, 319, 321, 1023, 12345, 16000, 16001])
@pytest.mark.parametrize("hop_length", [DEFAULT.hop_length, DEFAULT.n_fft // 4])
def test_istft_inverts_stft(dtype: torch.dtype, n_samples: int, hop_length: int) -> None:
    rng = np.random.default_rng(n_samples)
    wav = torch.from_numpy(rng.standard_normal((2, n_samples))).to(dtype)
    spec = stft(wav, n_fft=DEFAULT.n_fft, hop_length=hop_length)
    back = istft(spec, hop_length=hop_length, length=n_samples)
    assert back.dtype == dtype
    assert back.shape == wav.shape
    assert (back - wav).abs().max().item() < RECON_ATOL[dtype]


@pytest.mark.parametrize("window", WINDOWS)
def test_istft_inverts_stft_short_window(window: str) -> None:
    wav = torch.from_numpy(np.random.default_rng(7).standard_normal(5000))
    kwargs = {"hop_length": 128, "win_length": 400, "window": window}
    back = istft(stft(wav, n_fft=512, **kwargs), **kwargs, length=wav.shape[-1])
    assert (back - wav).abs().max().item() < RECON_ATOL[torch.float64]


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("length", [400, 1024, 1023])
def test_window_is_periodic_like_scipy(window: str, length: int) -> None:
    ours = window_tensor(window, length, dtype=torch.float64, device=torch.device("cpu"))
    expected = scipy.signal.get_window(window, length, fftbins=True)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("n_fft", "hop_length", "win_length", "window", "center"),
    [
        (1024, 320, None, "hann", True),
        (512, 128, 400, "hamming", True),
        (1024, 256, None, "blackman", False),
        (2048, 512, 1500, "hann", False),
    ],
)
def test_stft_matches_librosa(
    mixture: np.ndarray,
    n_fft: int,
    hop_length: int,
    win_length: int | None,
    window: str,
    center: bool,
) -> None:
    kwargs = {"n_fft": n_fft, "hop_length": hop_length, "win_length": win_length}
    kwargs |= {"window": window, "center": center}
    expected = librosa.stft(mixture, **kwargs)
    ours64 = stft(torch.from_numpy(mixture), **kwargs)
    assert ours64.dtype == torch.complex128
    assert ours64.shape == expected.shape
    np.testing.assert_allclose(ours64.numpy(), expected, rtol=0, atol=STFT64_ATOL)

    mixture32 = mixture.astype(np.float32)
    expected32 = librosa.stft(mixture32, **kwargs)
    ours32 = stft(torch.from_numpy(mixture32), **kwargs)
    assert ours32.dtype == torch.complex64
    atol = STFT32_ATOL_OF_PEAK * np.abs(expected32).max()
    np.testing.assert_allclose(ours32.numpy(), expected32, rtol=0, atol=atol)


def test_stft_frame_count_and_centering() -> None:
    # An impulse at sample t * hop_length lands in frame t with a flat spectrum.
    wav = torch.zeros(3201, dtype=torch.float64)
    wav[5 * 320] = 1.0
    spec = stft(wav, n_fft=1024, hop_length=320)
    assert spec.shape == (513, 1 + 3201 // 320)
    torch.testing.assert_close(spec[:, 5].abs(), torch.ones(513, dtype=torch.float64))


def test_stft_batched_equals_loop() -> None:
    rng = np.random.default_rng(3)
    batch = torch.from_numpy(rng.standard_normal((2, 3, 8000)).astype(np.float32))
    spec = stft(batch, n_fft=1024, hop_length=320)
    assert spec.shape == (2, 3, 513, 26)
    for i in range(2):
        for j in range(3):
            one = stft(batch[i, j], n_fft=1024, hop_length=320)
            torch.testing.assert_close(spec[i, j], one, rtol=0, atol=1e-5)
    back = istft(spec, hop_length=320, length=8000)
    assert back.shape == batch.shape
    assert (back - batch).abs().max().item() < RECON_ATOL[torch.float32]


def test_stft_casts_other_dtypes_to_float32() -> None:
    spec = stft(torch.ones(2000, dtype=torch.float16), n_fft=256, hop_length=64)
    assert spec.dtype == torch.complex64


@pytest.mark.parametrize("shape", [(), (0,), (3, 0)])
def test_stft_rejects_empty(shape: tuple[int, ...]) -> None:
    with pytest.raises(ShapeError, match=r"shape"):
        stft(torch.zeros(shape), n_fft=256, hop_length=64)


def test_stft_rejects_short_input_without_center() -> None:
    with pytest.raises(ShapeError, match="n_fft=256"):
        stft(torch.zeros(255), n_fft=256, hop_length=64, center=False)


def test_istft_rejects_real_input() -> None:
    with pytest.raises(ShapeError, match="complex"):
        istft(torch.zeros(129, 10), hop_length=64)


def test_unknown_window_is_config_error() -> None:
    with pytest.raises(ConfigError, match="kaiser"):
        stft(torch.zeros(1000), n_fft=256, hop_length=64, window="kaiser")
