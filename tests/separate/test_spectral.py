"""SpectralSeparator: masks from the 16 kHz model applied full-band at any input rate."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from cantata.errors import ConfigError, ModelLoadError, ShapeError
from cantata.features import istft, stft
from cantata.models.registry import build, save_checkpoint
from cantata.models.separator import MaskUNet, debug_separator
from cantata.separate.phase import consistent_phase
from cantata.separate.spectral import SpectralSeparator, native_grid

RATES = (16000, 22050, 44100)


def _constant(value_logit: float, mask: str = "irm") -> SpectralSeparator:
    """A separator whose vocal mask is the same everywhere (the head only has a bias)."""
    model = debug_separator(mask)
    torch.nn.init.zeros_(model.head.weight)
    torch.nn.init.constant_(model.head.bias, value_logit)
    return SpectralSeparator(model)


def _tones(rate: int, freqs_hz: tuple[float, ...], *, channels: int = 1, seconds: float = 1.2
           ) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    x = sum(0.2 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate(freqs_hz))
    noise = np.random.default_rng(0).standard_normal((channels, len(t))) * 0.01
    return (x + noise).astype(np.float32)


def _level(x: np.ndarray, rate: int, freq_hz: float) -> float:
    """Amplitude of the ``freq_hz`` component of a mono signal (Hann-windowed DFT)."""
    w = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x * w)) * 2 / w.sum()
    k = round(freq_hz * len(x) / rate)
    return float(spectrum[k - 2: k + 3].max())


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("channels", [1, 2])
def test_an_all_ones_mask_gives_the_input_back(rate, channels):
    sep = _constant(50.0)  # sigmoid(50) == 1 in float32
    x = _tones(rate, (440.0, min(12000.0, 0.45 * rate)), channels=channels)
    stems = sep.separate_window(x, rate)
    assert stems.shape == (2, channels, x.shape[1]) and stems.dtype == np.float32
    np.testing.assert_allclose(stems[0], x, atol=1e-4)
    np.testing.assert_allclose(stems[1], 0, atol=1e-4)


@pytest.mark.parametrize("rate", RATES)
def test_complementary_masks_keep_the_full_band(rate):
    sep = _constant(0.0)  # vocals = accompaniment = half the mixture
    x = _tones(rate, (300.0, min(12000.0, 0.45 * rate)), channels=2)
    stems = sep.separate_window(x, rate)
    np.testing.assert_allclose(stems.sum(axis=0), x, atol=1e-4)
    np.testing.assert_allclose(stems[0], 0.5 * x, atol=1e-4)
    if rate == 44100:  # 12 kHz, far above the model's 8 kHz Nyquist, is split, not cut
        assert _level(stems[0, 0], rate, 12000) == pytest.approx(0.1, rel=0.02)


def _banded(rate_hz_edge: float, low: float, high: float) -> SpectralSeparator:
    """A separator whose vocal mask is ``low`` below ``rate_hz_edge`` and ``high`` above."""
    sep = _constant(0.0)
    edge_bin = round(rate_hz_edge / (16000 / 1024))

    def mask(mag: torch.Tensor) -> torch.Tensor:
        out = torch.full_like(mag, high)
        out[..., :edge_bin, :] = low
        return out

    sep.model.mask = mask  # type: ignore[method-assign]
    return sep


def test_frequency_dependent_masks_land_on_the_right_native_bins():
    rate = 44100
    x = _tones(rate, (500.0, 5000.0, 12000.0))
    stems = _banded(2000.0, 1.0, 0.0).separate_window(x, rate)
    assert _level(stems[0, 0], rate, 500) == pytest.approx(0.2, rel=0.02)
    assert _level(stems[0, 0], rate, 5000) < 1e-3 and _level(stems[0, 0], rate, 12000) < 1e-3
    assert _level(stems[1, 0], rate, 12000) == pytest.approx(0.2, rel=0.02)
    stems = _banded(2000.0, 0.0, 1.0).separate_window(x, rate)  # highs follow the top band
    assert _level(stems[0, 0], rate, 12000) == pytest.approx(0.2, rel=0.02)
    assert _level(stems[0, 0], rate, 500) < 1e-3


@pytest.mark.parametrize("rate", [22050, 44100])
def test_time_dependent_masks_stay_aligned(rate):
    sep = _constant(0.0)
    switch_s = 0.6

    def mask(mag: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(mag)
        out[..., : round(switch_s * 16000 / 256)] = 1.0  # vocals until 0.6 s
        return out

    sep.model.mask = mask  # type: ignore[method-assign]
    x = _tones(rate, (440.0,), seconds=1.2)
    vocals = sep.separate_window(x, rate)[0, 0]
    before, after = round((switch_s - 0.05) * rate), round((switch_s + 0.05) * rate)
    np.testing.assert_allclose(vocals[:before], x[0, :before], atol=2e-3)
    assert np.abs(vocals[after:]).max() < 2e-3


def test_batches_equal_single_windows():
    sep = SpectralSeparator(debug_separator())
    x = np.stack([_tones(44100, (f,), channels=2, seconds=0.5) for f in (220.0, 880.0)])
    batch = sep.separate_batch(x, 44100)
    assert batch.shape == (2, 2, 2, x.shape[-1])
    for i in range(2):
        np.testing.assert_allclose(batch[i], sep.separate_window(x[i], 44100), atol=1e-5)


def _with_phase_steps(model: MaskUNet, steps: int) -> MaskUNet:
    out = MaskUNet(replace(model.config, phase_steps=steps))
    out.load_state_dict(model.state_dict())
    return out.eval()


@pytest.mark.parametrize("rate", [16000, 44100])
def test_phase_steps_reshape_the_vocals_phase_and_keep_the_sum(rate):
    model = debug_separator()
    x = _tones(rate, (440.0, 3000.0), channels=2)
    plain = SpectralSeparator(model).separate_window(x, rate)
    stepped = SpectralSeparator(_with_phase_steps(model, 1)).separate_window(x, rate)
    np.testing.assert_allclose(stepped.sum(axis=0), x, atol=1e-4)
    assert np.abs(stepped - plain).max() > 1e-3
    if rate == 16000:  # the vocals are the masked STFT under its consistent phase
        f = model.config.features
        kw = {"hop_length": f.hop_length, "window": f.window, "center": f.center,
              "length": x.shape[1]}
        spec = stft(torch.from_numpy(x), n_fft=f.n_fft, hop_length=f.hop_length)
        with torch.no_grad():
            masked = spec * model.mask(spec.abs()[None])[0]
        expected = istft(consistent_phase(masked, 1, **kw), **kw).numpy()
        np.testing.assert_allclose(stepped[0], expected, atol=1e-4)


def test_phase_steps_leave_a_constant_mask_alone():
    sep = _constant(0.0)  # half the mixture: a consistent spectrogram already
    sep.phase_steps = 2
    x = _tones(44100, (300.0, 5000.0), channels=2)
    np.testing.assert_allclose(sep.separate_window(x, 44100)[0], 0.5 * x, atol=1e-4)


def test_a_cirm_model_and_the_irm_override():
    x = _tones(22050, (440.0, 9000.0), channels=2)
    for sep in (SpectralSeparator(debug_separator("cirm")),
                SpectralSeparator(debug_separator("cirm"), mask="irm"),
                SpectralSeparator(debug_separator("psm"), mask="irm")):
        stems = sep.separate_window(x, 22050)
        np.testing.assert_allclose(stems.sum(axis=0), x, atol=1e-4)
    with pytest.raises(ConfigError, match="this model predicts"):
        SpectralSeparator(debug_separator(), mask="psm")


def test_from_checkpoint(tmp_path):
    model = debug_separator()
    path = save_checkpoint(tmp_path, model, name="separator", config=model.config, meta={})
    sep = SpectralSeparator.from_checkpoint(path)
    assert sep.stems == ("vocals", "accompaniment") and sep.model_rate == 16000
    x = _tones(16000, (440.0,))
    np.testing.assert_allclose(sep.separate_window(x, 16000),
                               SpectralSeparator(model).separate_window(x, 16000), atol=1e-6)
    other = build("singing-detector", {})
    wrong = save_checkpoint(tmp_path / "d.pt", other, name="singing-detector", config={},
                            meta={})
    with pytest.raises(ModelLoadError, match="not a separator"):
        SpectralSeparator.from_checkpoint(wrong)


def test_bad_shapes():
    sep = SpectralSeparator(debug_separator())
    with pytest.raises(ShapeError, match="channels, time"):
        sep.separate_window(np.zeros(100, np.float32), 16000)
    with pytest.raises(ShapeError, match="batch, channels, time"):
        sep.separate_batch(np.zeros((1, 2, 0), np.float32), 16000)


def test_native_grid_keeps_the_window_and_hop_durations():
    assert native_grid(1024, 256, 16000, 16000) == (1024, 256)
    n_fft, hop = native_grid(1024, 256, 16000, 44100)
    assert abs(n_fft / 44100 - 0.064) < 0.001 and hop == 706 and n_fft % 2 == 0
    assert native_grid(1024, 256, 16000, 48000) == (3072, 768)
