"""Lossy shelves, upsampling and padded bit depth."""

from __future__ import annotations

import numpy as np

from cantata.assess.bandwidth import analyse, padded_bits
from cantata.audio import resample
from cantata.types import Waveform

from .conftest import noise


def test_full_band_noise_is_not_a_transcode():
    b = analyse(noise(3.0)[0], 44100)
    assert not b.transcoded and not b.upsampled and b.bandwidth_hz > 21000


def test_a_16khz_shelf_is_a_transcode_with_its_likely_codec():
    b = analyse(noise(3.0, cutoff_hz=16000)[0], 44100)
    assert b.transcoded and b.confidence > 0.9
    assert abs(b.bandwidth_hz - 16000) < 300 and b.codec is not None and b.bitrate_class


def test_a_gentle_roll_off_is_dull_not_a_transcode():
    from scipy.signal import butter, sosfilt

    x = sosfilt(butter(2, 3000, fs=44100, output="sos"), noise(3.0)[0])
    b = analyse(x.astype(np.float32), 44100)
    assert not b.transcoded and not b.upsampled


def test_upsampled_audio_stops_at_the_old_nyquist():
    low = Waveform(noise(3.0, rate=22050, channels=1), 22050)
    b = analyse(resample(low, 44100).samples[0], 44100)
    assert b.upsampled_from == 22050 and not b.transcoded


def test_padded_bits():
    x = noise(0.5)  # 16-bit values
    assert padded_bits(x, 24) == 16
    assert padded_bits(x + 2.0 ** -23, 24) is None  # every bit used
    assert padded_bits(x, 16) is None  # nothing to pad
