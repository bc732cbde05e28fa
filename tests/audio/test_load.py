"""audio.load / info / stream on files the tests write: formats, rates, channels, bit depths."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from cantata import audio
from cantata import errors as audio_errors
from cantata.testing import chirp, noise, sine, write_compressed
from cantata.types import Waveform

# quantisation error of each integer format: 1/2 LSB (plus float rounding)
QUANT_ATOL = {"PCM_U8": 1 / 128, "PCM_S8": 1 / 128, "PCM_16": 1 / 32768 + 1e-7,
              "PCM_24": 1 / 2**23 + 1e-7, "PCM_32": 1e-7, "FLOAT": 1e-7, "DOUBLE": 1e-7}


def write(path, wav: Waveform, **kwargs):
    sf.write(str(path), wav.samples.T, wav.sample_rate, **kwargs)
    return path


@pytest.mark.parametrize(
    ("suffix", "subtype"),
    [(".wav", "PCM_U8"), (".wav", "PCM_16"), (".wav", "PCM_24"), (".wav", "PCM_32"),
     (".wav", "FLOAT"), (".wav", "DOUBLE"), (".aiff", "PCM_S8"), (".aiff", "PCM_16"),
     (".aiff", "PCM_24"), (".flac", "PCM_16"), (".flac", "PCM_24")],
)
def test_lossless_formats_and_bit_depths_roundtrip(tmp_path, suffix, subtype):
    wav = noise(duration_s=0.25, sample_rate=22050, n_channels=2, amplitude=0.2, seed=1)
    path = write(tmp_path / f"x{suffix}", wav, subtype=subtype)
    got = audio.load(path)
    assert got.sample_rate == 22050 and got.samples.shape == wav.samples.shape
    assert got.samples.dtype == np.float32
    np.testing.assert_allclose(got.samples, wav.samples, atol=QUANT_ATOL[subtype])


@pytest.mark.parametrize("sample_rate", [8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000])
def test_sample_rates_8k_to_192k(tmp_path, sample_rate):
    wav = sine(1000, duration_s=0.1, sample_rate=sample_rate)
    got = audio.load(write(tmp_path / "x.flac", wav, subtype="PCM_24"))
    assert got.sample_rate == sample_rate and got.n_samples == wav.n_samples
    np.testing.assert_allclose(got.samples, wav.samples, atol=1e-6)


@pytest.mark.parametrize("n_channels", range(1, 9))
def test_one_to_eight_channels_keep_their_order(tmp_path, n_channels):
    rate = 16000
    samples = np.stack([sine(200 * (c + 1), duration_s=0.1, sample_rate=rate).samples[0]
                        for c in range(n_channels)])
    got = audio.load(write(tmp_path / "x.wav", Waveform(samples, rate), subtype="FLOAT"))
    np.testing.assert_array_equal(got.samples, samples.astype(np.float32))
    mono = audio.load(tmp_path / "x.wav", mono=True)
    np.testing.assert_allclose(mono.samples[0], samples.mean(axis=0), atol=1e-6)


@pytest.mark.parametrize("suffix", [".mp3", ".m4a", ".opus", ".wma"])
def test_compressed_formats_decode_through_ffmpeg(tmp_path, suffix):
    wav = sine(440, duration_s=1.0, sample_rate=48000, n_channels=2, amplitude=0.5)
    got = audio.load(write_compressed(tmp_path / f"x{suffix}", wav))
    assert got.sample_rate == 48000 and got.n_channels == 2
    assert abs(got.n_samples - wav.n_samples) < 0.05 * wav.n_samples  # codec padding/priming
    middle = got.samples[:, 12000:36000]
    rms = float(np.sqrt(np.mean(middle**2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.05)  # the tone survived
    spectrum = np.abs(np.fft.rfft(middle[0]))
    assert np.argmax(spectrum) * 48000 / middle.shape[1] == pytest.approx(440, abs=3)
    assert audio.info(tmp_path / f"x{suffix}").n_channels == 2


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3"])
def test_offset_and_duration_cut_exactly(tmp_path, suffix):
    wav = chirp(duration_s=3.0, sample_rate=44100)
    path = tmp_path / f"x{suffix}"
    write_compressed(path, wav) if suffix == ".mp3" else write(path, wav, subtype="FLOAT"
                                                               if suffix == ".wav" else "PCM_24")
    whole = audio.load(path)
    part = audio.load(path, offset_s=1.2, duration_s=0.5)
    start = round(1.2 * 44100)
    assert part.n_samples == round(0.5 * 44100)
    np.testing.assert_allclose(part.samples, whole.samples[:, start:start + part.n_samples],
                               atol=1e-6)


def test_duration_past_the_end_returns_what_there_is(tmp_path):
    path = write(tmp_path / "x.wav", noise(duration_s=1.0), subtype="FLOAT")
    assert audio.load(path, offset_s=0.5, duration_s=10).n_samples == 8000


def test_resampling_on_load_is_high_quality(tmp_path):
    path = write(tmp_path / "x.wav", sine(1000, duration_s=1.0, sample_rate=44100), subtype="FLOAT")
    got = audio.load(path, sample_rate=16000)
    assert got.sample_rate == 16000 and got.n_samples == 16000
    expected = sine(1000, duration_s=1.0, sample_rate=16000).samples
    # away from the edges a resampled sine is the sine at the new rate
    np.testing.assert_allclose(got.samples[:, 500:-500], expected[:, 500:-500], atol=1e-3)


@pytest.mark.parametrize(("suffix", "target_rate"), [(".wav", None), (".flac", 16000),
                                                     (".mp3", 22050)])
def test_stream_blocks_concatenate_to_load(tmp_path, suffix, target_rate):
    wav = noise(duration_s=2.3, sample_rate=44100, n_channels=2, seed=3)
    path = tmp_path / f"x{suffix}"
    write_compressed(path, wav) if suffix == ".mp3" else write(path, wav, subtype="PCM_24")
    blocks = list(audio.stream(path, block_s=0.5, sample_rate=target_rate))
    rate = target_rate or 44100
    assert all(b.sample_rate == rate for b in blocks)
    assert all(b.n_samples == round(0.5 * rate) for b in blocks[:-1])
    streamed = np.concatenate([b.samples for b in blocks], axis=1)
    whole = audio.load(path, sample_rate=target_rate)
    assert streamed.shape == whole.samples.shape
    np.testing.assert_allclose(streamed, whole.samples, atol=1e-5)


def test_stream_mono(tmp_path):
    path = write(tmp_path / "x.wav", noise(duration_s=1.0, n_channels=3), subtype="FLOAT")
    blocks = list(audio.stream(path, block_s=0.3, mono=True))
    assert {b.n_channels for b in blocks} == {1}
    np.testing.assert_allclose(np.concatenate([b.samples for b in blocks], axis=1),
                               audio.load(path, mono=True).samples, atol=1e-6)


def test_info_reads_the_header(tmp_path):
    path = write(tmp_path / "x.flac", noise(duration_s=1.5, sample_rate=32000, n_channels=2),
                 subtype="PCM_24")
    meta = audio.info(path)
    assert (meta.sample_rate, meta.n_channels, meta.codec, meta.container) == (
        32000, 2, "PCM_24", "FLAC")
    assert meta.duration_s == pytest.approx(1.5)


def test_stream_index_picks_one_stream_of_a_multistream_file(tmp_path):
    import av

    path = tmp_path / "stems.mp4"
    tones = [sine(f, duration_s=0.5, sample_rate=44100, n_channels=2) for f in (220, 660, 1320)]
    with av.open(str(path), "w", format="mp4") as container:
        streams = [container.add_stream("aac", rate=44100, layout="stereo") for _ in tones]
        for stream, tone in zip(streams, tones, strict=True):
            for start in range(0, tone.n_samples, 1024):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(tone.samples[:, start:start + 1024]), format="fltp",
                    layout="stereo")
                frame.sample_rate, frame.pts = 44100, start
                for packet in stream.encode(frame):
                    container.mux(packet)
        for stream in streams:
            for packet in stream.encode(None):
                container.mux(packet)
    assert audio.count_audio_streams(path) == 3
    for index, freq in enumerate((220, 660, 1320)):
        got = audio.load(path, stream_index=index).samples[0, 4096:16384]
        peak_hz = np.argmax(np.abs(np.fft.rfft(got))) * 44100 / len(got)
        assert peak_hz == pytest.approx(freq, abs=8)
    with pytest.raises(audio_errors.AudioLoadError, match="no stream 3"):
        audio.load(path, stream_index=3)
