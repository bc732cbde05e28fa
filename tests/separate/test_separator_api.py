"""Separator: arrays and files, streamed stem files, formats, no overwrite, gating.

(Named test_separator_api.py: tests/detect/test_api.py has the plain name.)
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf

from cantata import capabilities
from cantata.engine.overlap_add import EngineConfig
from cantata.errors import AudioLoadError, AudioSaveError, ConfigError, ModelLoadError
from cantata.files import OutputExistsError
from cantata.separate import api
from cantata.separate.api import Separator, StemFiles, output_subtype
from cantata.testing import noise
from cantata.testing.separators import GainSeparator
from cantata.types import Segment, Stems, Waveform

SMALL = EngineConfig(window_s=0.5, overlap_s=0.1, edge_s=0.02, min_window_s=0.05)  # fast


def write(path, wav, subtype="FLOAT"):
    sf.write(str(path), wav.samples.T, wav.sample_rate, subtype=subtype)
    return path


def separator(**kwargs):
    return Separator(GainSeparator(), engine=SMALL, **kwargs)


@pytest.mark.parametrize("n_channels", [1, 2])
def test_waveform_in_stems_out(n_channels):
    wav = noise(duration_s=1.3, sample_rate=22050, n_channels=n_channels, seed=1)
    stems = separator().separate(wav)
    assert isinstance(stems, Stems) and stems.names == ("vocals", "accompaniment")
    assert stems.sample_rate == 22050 and stems.input is None and stems.skipped_s == 0
    for name in stems.names:
        assert stems[name].samples.shape == wav.samples.shape
        assert stems[name].sample_rate == 22050
    np.testing.assert_allclose(stems["vocals"].samples + stems["accompaniment"].samples,
                               wav.samples, atol=1e-6)


def test_file_and_waveform_agree(tmp_path):
    wav = noise(duration_s=1.0, sample_rate=44100, n_channels=2, seed=2)
    path = write(tmp_path / "song.wav", wav)
    from_file, from_wav = separator().separate(path), separator().separate(wav)
    assert from_file.input == str(path)
    np.testing.assert_array_equal(from_file["vocals"].samples, from_wav["vocals"].samples)


def test_stem_files_layout_rate_channels_length(tmp_path, monkeypatch):
    monkeypatch.setattr(api, "DECODE_BLOCK_S", 0.3)  # many blocks and windows: streamed
    wav = noise(duration_s=2.345, sample_rate=32000, n_channels=2, seed=3)
    path = write(tmp_path / "my song.wav", wav)
    files = separator().separate_to_files(path, tmp_path / "out", bits="32f")
    assert isinstance(files, StemFiles) and dict(files) == {
        "vocals": tmp_path / "out" / "my song" / "vocals.wav",
        "accompaniment": tmp_path / "out" / "my song" / "accompaniment.wav"}
    assert files.sample_rate == 32000 and files.n_channels == 2
    assert files.duration_s == pytest.approx(2.345)
    in_memory = separator().separate(wav)
    for stem, file in files.items():
        data, rate = sf.read(str(file), dtype="float32", always_2d=True)
        assert rate == 32000 and data.shape == (wav.n_samples, 2)
        assert sf.info(str(file)).subtype == "FLOAT"
        np.testing.assert_allclose(data.T, in_memory[stem].samples, atol=1e-6)
    assert sorted(p.name for p in (tmp_path / "out" / "my song").iterdir()) == \
        ["accompaniment.wav", "vocals.wav"]  # no temporary files left


@pytest.mark.parametrize(("fmt", "bits", "subtype"),
                         [("wav", "16", "PCM_16"), ("wav", "24", "PCM_24"),
                          ("flac", "16", "PCM_16"), ("flac", "24", "PCM_24")])
def test_formats_and_bits(tmp_path, fmt, bits, subtype):
    path = write(tmp_path / "x.wav", noise(duration_s=0.5, sample_rate=16000))
    files = separator().separate_to_files(path, tmp_path, format=fmt, bits=bits,
                                          stems=["accompaniment"])
    assert list(files) == ["accompaniment"] and files["accompaniment"].suffix == f".{fmt}"
    info = sf.info(str(files["accompaniment"]))
    assert info.subtype == subtype and info.frames == 8000 and info.channels == 1


def test_flac_cannot_hold_float(tmp_path):
    path = write(tmp_path / "x.wav", noise(duration_s=0.5))
    with pytest.raises(AudioSaveError, match="flac cannot hold FLOAT"):
        separator().separate_to_files(path, tmp_path / "out", format="flac", bits="32f")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigError):
        output_subtype("aiff", "16")
    with pytest.raises(ConfigError):
        output_subtype("wav", "8")


def test_no_overwrite_is_checked_before_any_work(tmp_path):
    path = write(tmp_path / "x.wav", noise(duration_s=0.5))
    sep = separator()
    first = sep.separate_to_files(path, tmp_path)
    first["vocals"].write_bytes(b"mine")
    calls = sep.backend.calls
    with pytest.raises(OutputExistsError, match="vocals.wav: file exists"):
        sep.separate_to_files(path, tmp_path)
    assert sep.backend.calls == calls and first["vocals"].read_bytes() == b"mine"
    sep.separate_to_files(path, tmp_path, overwrite=True)
    assert sf.info(str(first["vocals"])).frames == 8000


def test_bad_input_and_bad_stems(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioLoadError, match="bad.wav"):
        separator().separate_to_files(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigError, match="stems"):
        separator().separate_to_files(bad, tmp_path / "out", stems=["drums"])


def test_clipping_is_counted_and_warned(tmp_path, caplog):
    loud = Waveform(np.full((1, 4000), 0.9, np.float32), 16000)
    path = write(tmp_path / "loud.wav", loud)
    sep = Separator(GainSeparator(gain=1.5), engine=SMALL)  # vocals 1.35: over full scale
    with caplog.at_level(logging.WARNING):
        files = sep.separate_to_files(path, tmp_path, clip_mode="clamp")
    data, _ = sf.read(str(files["vocals"]))
    assert data.max() == pytest.approx(1.0, abs=1e-4) and files.clipped_samples == 4000
    assert f"{path}: peak -0.9 dBFS: clipped 4000 stem samples" in caplog.text


class FakeDetector:
    def __init__(self, segments):
        self.segments, self.calls = segments, 0

    def detect(self, src):
        self.calls += 1
        return self.segments


def test_gated_separation_reports_the_skipped_time(tmp_path):
    wav = noise(duration_s=12.0, sample_rate=8000, n_channels=2, seed=4)
    detector = FakeDetector([Segment(5.0, 6.0, "vocal", 0.9)])
    sep = Separator(GainSeparator(), detector=detector, engine=SMALL)
    stems = sep.separate(wav)
    assert stems.skipped_s == pytest.approx(4.5 + 5.5)
    assert np.all(stems["vocals"].samples[:, : 4 * 8000] == 0)
    np.testing.assert_allclose(stems["accompaniment"].samples[:, 7 * 8000:],
                               wav.samples[:, 7 * 8000:], atol=1e-6)
    path = write(tmp_path / "x.wav", wav)
    files = sep.separate_to_files(path, tmp_path, bits="32f")
    assert files.skipped_s == pytest.approx(10.0) and detector.calls == 2
    data, _ = sf.read(str(files["vocals"]), dtype="float32")
    np.testing.assert_allclose(data.T, stems["vocals"].samples, atol=1e-6)


def test_gate_needs_an_accompaniment_stem():
    class Odd(GainSeparator):
        stems = ("vocals", "other")

    with pytest.raises(ConfigError, match="accompaniment"):
        Separator(Odd(), detector=FakeDetector([]))


def test_gate_resolves_detector_names():
    from cantata.detect.api import VoiceDetector

    assert api.resolve_gate(None) is None and api.resolve_gate(False) is None
    assert isinstance(api.resolve_gate("debug"), VoiceDetector)
    fake = FakeDetector([])
    assert api.resolve_gate(fake) is fake
    with pytest.raises(ConfigError):
        api.resolve_gate(42)


def test_missing_models_are_model_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelLoadError, match="missing.pt"):
        Separator.from_pretrained(tmp_path / "missing.pt")
    monkeypatch.setattr(capabilities, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelLoadError, match="shipped model 'separator' has no weights"):
        Separator.from_pretrained("separator")


@pytest.mark.parametrize("mask", ["irm", "psm", "cirm"])
def test_debug_model_mono_and_stereo(mask):
    separator = Separator.from_pretrained("debug", mask=mask)
    assert separator.stems == ("vocals", "accompaniment")
    for n_channels, rate in ((1, 16000), (2, 44100)):
        wav = noise(duration_s=1.2, sample_rate=rate, n_channels=n_channels, seed=n_channels)
        stems = separator.separate(wav)
        assert stems["vocals"].samples.shape == wav.samples.shape
        mix = stems["vocals"].samples + stems["accompaniment"].samples
        np.testing.assert_allclose(mix, wav.samples, atol=1e-4)  # complementary masks


def test_checkpoint_round_trip_and_mask_check(tmp_path):
    from cantata.models.registry import save_checkpoint
    from cantata.models.separator import debug_separator

    model = debug_separator("psm")
    path = save_checkpoint(tmp_path, model, name="separator", config=model.config, meta={})
    wav = noise(duration_s=1.0, sample_rate=16000, seed=5)
    loaded = Separator.from_pretrained(path).separate(wav)
    direct = Separator.from_pretrained("debug", mask="psm").separate(wav)
    np.testing.assert_allclose(loaded["vocals"].samples, direct["vocals"].samples, atol=1e-6)
    assert isinstance(Separator.from_pretrained(path, mask="irm"), Separator)
    with pytest.raises(ConfigError, match="mask"):
        Separator.from_pretrained(path, mask="cirm")


def test_package_level_convenience(tmp_path):
    wav = noise(duration_s=0.5, sample_rate=16000)
    stems = api.separate(wav, model="debug")
    assert isinstance(stems, Stems) and stems["accompaniment"].n_samples == 8000


def test_level_gain():
    assert api.level_gain(0.25) == pytest.approx(api.TARGET_PEAK / 0.25)
    assert api.level_gain(api.TARGET_PEAK) == 1.0
    assert api.level_gain(0.0) == api.level_gain(float("nan")) == 1.0
    assert api.level_gain(1e-9) == api.MAX_GAIN


@pytest.mark.parametrize("normalize", [True, False])
def test_the_level_of_the_input_does_not_change_the_separation(tmp_path, normalize):
    """The debug net's log-magnitude input is level-dependent; normalisation removes that."""
    separator = Separator.from_pretrained("debug", engine=SMALL, normalize=normalize)
    wav = noise(duration_s=1.2, sample_rate=22050, n_channels=2, seed=5)
    loud, quiet = Waveform(0.9 * wav.samples, 22050), Waveform(0.01 * wav.samples, 22050)
    ratio = separator.separate(quiet)["vocals"].samples / 0.01
    same = np.allclose(ratio, separator.separate(loud)["vocals"].samples / 0.9, atol=1e-5)
    assert same == normalize
    if normalize:  # a file takes the same path through a first pass for its peak
        written = separator.separate_to_files(write(tmp_path / "quiet.wav", quiet), tmp_path,
                                               bits="32f")
        from_file, _ = sf.read(written["vocals"], dtype="float32")
        np.testing.assert_allclose(from_file.T / 0.01, ratio, atol=1e-5)
