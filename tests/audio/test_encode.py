"""Lossy encoders written block by block (``cantata.audio.save.open_writer``)."""

from __future__ import annotations

import numpy as np
import pytest

from cantata import audio
from cantata.audio.save import open_writer, parse_bitrate
from cantata.errors import AudioSaveError


@pytest.mark.parametrize(("text", "bps"), [("320k", 320_000), ("320", 320_000),
                                           ("96000", 96_000), (128, 128_000), ("64K", 64_000)])
def test_parse_bitrate(text, bps):
    assert parse_bitrate(text) == bps


@pytest.mark.parametrize("text", ["fast", "", "1k", "9000k", "-5k"])
def test_bad_bitrate(text):
    with pytest.raises(AudioSaveError, match="--bitrate"):
        parse_bitrate(text)


@pytest.mark.parametrize(("fmt", "channels", "rate", "expected_rate"),
                         [("mp3", 1, 16000, 16000), ("mp3", 2, 96000, 48000),
                          ("ogg", 1, 22050, 22050), ("opus", 2, 44100, 48000),
                          ("opus", 1, 16000, 48000), ("m4a", 6, 48000, 48000)])
def test_block_by_block(tmp_path, fmt, channels, rate, expected_rate):
    path = tmp_path / f"x.{fmt}"
    writer = open_writer(path, format=fmt, sample_rate=rate, n_channels=channels)
    t = np.arange(2 * rate) / rate
    samples = np.tile(0.3 * np.sin(2 * np.pi * 440 * t), (channels, 1)).astype(np.float32)
    for start in range(0, samples.shape[1], 7919):  # blocks of any size
        writer.write(samples[:, start:start + 7919])
    writer.close()
    info = audio.info(path)  # Opus always decodes at 48 kHz
    assert (info.sample_rate, info.n_channels) == (expected_rate, channels)
    assert info.duration_s == pytest.approx(2.0, abs=0.08)
    decoded = audio.load(path).samples
    assert 0.15 < np.abs(decoded).max() < 0.45  # the tone, at its level


def test_what_a_format_cannot_hold(tmp_path):
    with pytest.raises(AudioSaveError, match="cannot encode mp3 of 6 channel"):
        open_writer(tmp_path / "x.mp3", format="mp3", sample_rate=44100, n_channels=6)
    with pytest.raises(AudioSaveError, match="x.mp3"):  # FFmpeg opens the file lazily
        writer = open_writer(tmp_path / "no" / "x.mp3", format="mp3", sample_rate=44100,
                             n_channels=2)
        writer.write(np.zeros((2, 44100), np.float32))
        writer.close()
    with pytest.raises(AudioSaveError, match="unsupported output format"):
        open_writer(tmp_path / "x.aiff", format="aiff", sample_rate=44100, n_channels=2)


def test_discard_never_raises(tmp_path):
    writer = open_writer(tmp_path / "x.m4a", format="m4a", sample_rate=44100, n_channels=2)
    writer.write(np.zeros((2, 4410), np.float32))
    writer.discard()
    writer.discard()
    assert writer.closed
