"""Clipping, DC, stereo image, silence and the audio hash."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.assess import signal

from .conftest import noise, sine


def test_clipped_sine_has_one_run_per_crest():
    x = np.clip(sine(100, 0, 1, channels=1) * 1.5, -0.9, 0.9)  # 100 crests each way
    clip = signal.clipping(x, 48000)
    assert clip.runs == 200 and clip.seconds > 0.1 and clip.worst_s > 0.001
    assert signal.clipping(sine(100, -1, 1), 48000).runs == 0


def test_dc_offset_and_polarity():
    x = noise(1.0)
    assert abs(signal.dc_offset(x)) < 1e-3
    assert signal.dc_offset(x + 0.05) == pytest.approx(0.05, abs=1e-3)
    same = np.stack([x[0], x[0]])
    assert signal.stereo(same).dual_mono and signal.stereo(same).mono_loss_db == 0.0
    bass = sine(60, -10, 1, rate=44100) + 0.3 * noise(1.0)
    flipped = np.stack([bass[0], -bass[1]])
    st = signal.stereo(flipped)
    assert st.inverted and st.correlation < -0.5 and st.mono_loss_db < -10
    assert signal.stereo(x[:1]).correlation is None


def test_silence_at_the_ends():
    x = np.concatenate([np.zeros((2, 44100)), noise(1.0), np.zeros((2, 22050))], axis=1)
    head, tail = signal.silence(x, 44100)
    assert head == pytest.approx(1.0, abs=0.011) and tail == pytest.approx(0.5, abs=0.011)


def test_same_audio_same_hash():
    x = noise(0.5)
    assert signal.pcm_hash(x) == signal.pcm_hash(x.copy())
    assert signal.pcm_hash(x) != signal.pcm_hash(x[:, :-1])
