"""The restore API: any rate and channels in, the same out; files written safely."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

import cantata
from cantata.errors import ConfigError
from cantata.files import OutputExistsError
from cantata.restore import AudioRestorer
from cantata.testing import noise


def test_any_rate_and_channels_come_back_the_same_shape():
    restorer = AudioRestorer.from_pretrained("debug")
    wav = noise(duration_s=0.5, sample_rate=22050, n_channels=2, seed=1)
    out = restorer.restore(wav)
    assert (out.sample_rate, out.samples.shape) == (22050, wav.samples.shape)


def test_strength_zero_without_declick_is_transparent():
    restorer = AudioRestorer.from_pretrained("debug", declick=False, strength=0.0)
    wav = noise(duration_s=0.5, sample_rate=16000, seed=2)
    np.testing.assert_allclose(restorer.restore(wav).samples, wav.samples, atol=1e-5)


def test_declick_only_needs_no_model():
    restorer = AudioRestorer.from_pretrained("no-such-model", denoise=False)
    assert restorer.model is None
    y = np.zeros(8000, np.float32)
    assert cantata.restore(y, sr=8000, denoise=False).samples.shape == (1, 8000)
    with pytest.raises(ConfigError, match="strength"):
        AudioRestorer(None, denoise=False, strength=-1)


def test_files_are_written_once_unless_overwrite(tmp_path):
    src = tmp_path / "take.flac"
    sf.write(str(src), noise(duration_s=0.4, sample_rate=16000, seed=3).samples.T, 16000)
    restorer = AudioRestorer.from_pretrained("debug")
    dest = tmp_path / "out" / "take.flac"
    report = restorer.restore_to_file(src, dest, bits="24")
    info = sf.info(str(dest))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 6400,
                                                                            "PCM_24")
    assert report.model == "debug"
    with pytest.raises(OutputExistsError):
        restorer.restore_to_file(src, dest)
    restorer.restore_to_file(src, dest, overwrite=True)
    with pytest.raises(ConfigError, match="bits"):
        restorer.restore_to_file(src, tmp_path / "x.flac", bits="32f")


def test_the_analyzer_writes_a_restored_copy(tmp_path):
    from cantata import analyzers
    from cantata.analyzers import TrackAudio

    src = tmp_path / "take.wav"
    sf.write(str(src), noise(duration_s=0.3, sample_rate=16000, seed=5).samples.T, 16000)
    (spec,) = analyzers.resolve("restore=debug")
    analyzer = analyzers.build(spec, files_dir=tmp_path / "files")
    (result,) = analyzer.analyze([TrackAudio(str(src), "abc", None)])
    restored = tmp_path / "files" / "abc" / "take" / "restored.flac"
    assert result.stems == {"restored": str(restored.resolve())}
    assert sf.info(str(restored)).frames == 4800 and "clicks" in result.summary
