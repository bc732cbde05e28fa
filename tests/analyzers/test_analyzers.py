"""Analyzer specs, identities and the detect / separate analyzers."""

from __future__ import annotations

import pytest
import soundfile as sf

from cantata.analyzers import TrackAudio, build, resolve
from cantata.analyzers.base import weights_identity
from cantata.errors import ConfigError, ModelLoadError
from cantata.testing import noise


def test_resolve_parses_names_and_models_without_loading_them():
    detect, separate = resolve("detect, separate=debug")
    assert (detect.name, detect.model, separate.model) == ("detect", "singing", "debug")
    assert detect.model_version.startswith("singing-detector-binary-")
    assert detect.key == f"detect@2:{detect.model_version}" and str(separate) == "separate=debug"
    assert [s.name for s in resolve(["detect=singing-multilabel"])] == ["detect"]
    with pytest.raises(ConfigError, match="unknown analyzer 'tags'"):
        resolve("tags")
    with pytest.raises(ConfigError, match="named twice"):
        resolve("detect,detect=debug")
    with pytest.raises(ConfigError, match="no analyzers"):
        resolve(" , ")
    with pytest.raises(ModelLoadError, match="unknown model"):
        resolve("separate=/no/such.pt")


def test_weights_identity_hashes_only_unhashed_names(tmp_path):
    shipped = tmp_path / "singing-detector-binary-c9daa24e.pt"
    own = tmp_path / "best.pt"
    shipped.write_bytes(b"w")
    own.write_bytes(b"w")
    assert weights_identity(shipped) == "singing-detector-binary-c9daa24e"
    assert weights_identity(own).startswith("best-") and len(weights_identity(own)) == 13
    assert resolve(f"detect={own}")[0].model_version == weights_identity(own)


@pytest.fixture
def track(tmp_path):
    wav = noise(duration_s=1.2, sample_rate=22050, n_channels=2, seed=3)
    path = tmp_path / "song.wav"
    sf.write(str(path), wav.samples.T, 22050)
    return path, wav


def test_detect_gives_the_same_regions_from_the_path_or_the_decoded_audio(track):
    path, wav = track
    analyzer = build(resolve("detect=debug-multilabel")[0])
    from_path, from_wav = analyzer.analyze([TrackAudio(str(path), "h", None),
                                            TrackAudio(str(path), "h", wav)])
    assert from_path.regions == from_wav.regions
    assert set(from_path.summary) == {"vocal_s", "accompaniment_s", "silence_s", "regions"}
    assert from_path.key == analyzer.spec.key


def test_separate_writes_stems_under_the_content_hash(track, tmp_path):
    path, _ = track
    spec = resolve("separate=debug")[0]
    with pytest.raises(ConfigError, match="needs a folder"):
        build(spec)
    analyzer = build(spec, files_dir=tmp_path / "files")
    (result,) = analyzer.analyze([TrackAudio(str(path), "abc123")])
    assert set(result.stems) == {"vocals", "accompaniment"}
    for stem, stem_path in result.stems.items():
        assert stem_path == str(tmp_path / "files" / "abc123" / "song" / f"{stem}.flac")
        info = sf.info(stem_path)
        assert (info.samplerate, info.channels, info.frames) == (22050, 2, 26460)
    (again,) = analyzer.analyze([TrackAudio(str(path), "abc123")])  # replaces its own files
    assert again.stems == result.stems
