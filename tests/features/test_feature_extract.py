"""FeatureExtractor and extract(): agreement with librosa, batching, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.features import FeatureConfig, FeatureExtractor, extract
from cantata.types import Waveform

librosa = pytest.importorskip("librosa")

# Log-mel vs librosa, in dB. The extractor works in float32; rounding in the FFT is
# relative to each frame's largest bins, so a band's relative error grows as its power
# falls below the peak. Within 60 dB of the item's peak we measured <= 3e-5 dB (mixture)
# and <= 3.5e-4 dB (40-80 dB below a pure tone); bins further down are not compared.
LOGMEL_ATOL_DB = 1e-3
LOGMEL_RANGE_DB = 60.0
# MFCC = orthonormal DCT of the log-mel: errors add in quadrature over 80 bands, so
# sqrt(80) * LOGMEL_ATOL_DB bounds it; measured <= 4e-5 on the mixture.
MFCC_ATOL = 1e-2
# Chroma is in [0, 1] per frame; measured <= 6e-7.
CHROMA_ATOL = 1e-5
# |STFT| in float32, relative to the peak magnitude; measured ~1.5e-7.
MAG_ATOL_OF_PEAK = 1e-5


def _librosa_logmel(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    mel = librosa.feature.melspectrogram(
        y=y,
        sr=cfg.sample_rate,
        n_fft=cfg.n_fft,
        hop_length=cfg.hop_length,
        win_length=cfg.win_length,
        window=cfg.window,
        center=cfg.center,
        power=2.0,
        n_mels=cfg.n_mels,
        fmin=cfg.f_min_hz,
        fmax=cfg.f_max_hz,
    )
    return librosa.power_to_db(mel, ref=1.0, amin=cfg.amin, top_db=cfg.top_db)


def _assert_logmel_close(ours: np.ndarray, expected: np.ndarray) -> None:
    assert ours.shape == expected.shape
    compared = expected > expected.max() - LOGMEL_RANGE_DB
    assert compared.sum() >= 200, "too few bins compared for the test to mean anything"
    np.testing.assert_allclose(ours[compared], expected[compared], rtol=0, atol=LOGMEL_ATOL_DB)


@pytest.mark.parametrize("top_db", [None, 80.0, 40.0])
def test_logmel_matches_librosa(mixture: np.ndarray, top_db: float | None) -> None:
    cfg = FeatureConfig(top_db=top_db)
    ours = extract(mixture, cfg)[0].numpy()
    expected = _librosa_logmel(mixture.astype(np.float32), cfg)
    _assert_logmel_close(ours, expected)
    if top_db is not None:
        assert ours.min() >= ours.max() - top_db - LOGMEL_ATOL_DB


def test_logmel_non_default_config_matches_librosa(mixture: np.ndarray) -> None:
    y = librosa.resample(mixture, orig_sr=16000, target_sr=22050)
    cfg = FeatureConfig(
        sample_rate=22050,
        n_fft=512,
        hop_length=128,
        win_length=400,
        window="hamming",
        n_mels=64,
        f_min_hz=50.0,
        f_max_hz=7000.0,
        center=False,
    )
    ours = extract(y, cfg)[0].numpy()
    _assert_logmel_close(ours, _librosa_logmel(y.astype(np.float32), cfg))


@pytest.mark.parametrize("top_db", [None, 60.0])
def test_logmel_with_silence_matches_librosa(
    sine_in_silence: np.ndarray, top_db: float | None
) -> None:
    cfg = FeatureConfig(top_db=top_db)
    ours = extract(sine_in_silence, cfg)[0].numpy()
    expected = _librosa_logmel(sine_in_silence.astype(np.float32), cfg)
    _assert_logmel_close(ours, expected)
    # All-zero frames sit exactly on the floor: amin, or the top_db clip.
    floor_db = -100.0 if top_db is None else expected.max() - top_db
    assert np.all(ours[:, 0] == pytest.approx(floor_db, abs=LOGMEL_ATOL_DB))
    if top_db is not None:
        np.testing.assert_allclose(ours, expected, rtol=0, atol=LOGMEL_ATOL_DB)


@pytest.mark.parametrize("top_db", [None, 40.0])
def test_mfcc_matches_librosa(mixture: np.ndarray, top_db: float | None) -> None:
    cfg = FeatureConfig(kind="mfcc", top_db=top_db)
    ours = extract(mixture, cfg)[0].numpy()
    logmel = _librosa_logmel(mixture.astype(np.float32), cfg)
    expected = librosa.feature.mfcc(S=logmel, n_mfcc=cfg.n_mfcc, dct_type=2, norm="ortho")
    assert ours.shape == expected.shape == (20, cfg.n_frames(mixture.size))
    np.testing.assert_allclose(ours, expected, rtol=0, atol=MFCC_ATOL)


@pytest.mark.parametrize("signal", ["mixture", "sine_in_silence"])
def test_chroma_matches_librosa(signal: str, request: pytest.FixtureRequest) -> None:
    y = request.getfixturevalue(signal).astype(np.float32)
    cfg = FeatureConfig(kind="chroma")
    ours = extract(y, cfg)[0].numpy()
    power = np.abs(librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length)) ** 2
    expected = librosa.feature.chroma_stft(
        S=power, sr=cfg.sample_rate, tuning=0.0, n_chroma=cfg.n_chroma, norm=np.inf
    )
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=0, atol=CHROMA_ATOL)
    if signal == "sine_in_silence":
        # Silent frames stay zero (no NaN); the tone's frames peak on A (row 9).
        assert np.all(ours[:, 0] == 0.0)
        assert np.all(ours[9, 20:60] == 1.0)


def test_stft_mag_matches_librosa(mixture: np.ndarray) -> None:
    y = mixture.astype(np.float32)
    ours = extract(y, FeatureConfig(kind="stft_mag"))[0].numpy()
    expected = np.abs(librosa.stft(y, n_fft=1024, hop_length=320))
    np.testing.assert_allclose(ours, expected, rtol=0, atol=MAG_ATOL_OF_PEAK * expected.max())


@pytest.mark.parametrize("kind", ["stft_mag", "logmel", "mfcc", "chroma"])
def test_batched_forward_equals_per_item(kind: str) -> None:
    rng = np.random.default_rng(5)
    # Items at very different levels: top_db must clip each against its own maximum.
    scale = np.array([1.0, 1e-3, 0.1, 1e-5, 0.5, 1e-2])[:, np.newaxis]
    batch = torch.from_numpy((scale * rng.standard_normal((6, 6000))).astype(np.float32))
    extractor = FeatureExtractor(FeatureConfig(kind=kind, top_db=30.0))
    out = extractor(batch.reshape(2, 3, -1))
    assert out.dtype == torch.float32
    assert out.shape == (2, 3, extractor.config.n_features, extractor.config.n_frames(6000))
    for i, item in enumerate(batch):
        torch.testing.assert_close(out.reshape(6, *out.shape[2:])[i], extractor(item))


def test_float64_input_gives_float32_features(mixture: np.ndarray) -> None:
    extractor = FeatureExtractor(FeatureConfig())
    out64 = extractor(torch.from_numpy(mixture))
    out32 = extractor(torch.from_numpy(mixture.astype(np.float32)))
    assert out64.dtype == torch.float32
    torch.testing.assert_close(out64, out32)


def test_filterbanks_are_not_in_state_dict() -> None:
    extractor = FeatureExtractor(FeatureConfig(kind="mfcc"))
    assert extractor.state_dict() == {}
    assert {name for name, _ in extractor.named_buffers()} == {"mel_fb", "dct"}


def test_extract_waveform_keeps_channels(mixture: np.ndarray) -> None:
    stereo = np.stack([mixture, 0.5 * mixture[::-1]])
    cfg = FeatureConfig()
    out = extract(Waveform(stereo, 16000), cfg)
    assert out.shape == (2, 80, cfg.n_frames(mixture.size))
    assert not out.requires_grad
    expected = FeatureExtractor(cfg)(torch.from_numpy(stereo.astype(np.float32)))
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(extract(torch.from_numpy(stereo[1]), cfg)[0], expected[1])


def test_extract_wrong_sample_rate_is_config_error(mixture: np.ndarray) -> None:
    with pytest.raises(ConfigError, match=r"44100 Hz.*16000 Hz.*resample"):
        extract(Waveform(mixture, 44100), FeatureConfig())


@pytest.mark.parametrize(
    "wav",
    [
        Waveform(np.zeros((1, 0), dtype=np.float32), 16000),
        np.zeros(0, dtype=np.float32),
        np.zeros((0, 100), dtype=np.float32),
        np.zeros((1, 2, 100), dtype=np.float32),
        torch.tensor(1.0),
    ],
    ids=["empty-waveform", "empty-1d", "no-channels", "3d", "0d"],
)
def test_extract_bad_shapes_are_shape_errors(wav: object) -> None:
    with pytest.raises(ShapeError, match="shape"):
        extract(wav, FeatureConfig())  # type: ignore[arg-type]


def test_forward_rejects_too_short_input_without_center() -> None:
    with pytest.raises(ShapeError, match="1024"):
        FeatureExtractor(FeatureConfig(center=False))(torch.zeros(1000))
