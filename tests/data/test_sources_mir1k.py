"""MIR-1K loader: stem folders, original stereo WAVs (L = accompaniment, R = vocals)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cantata.data.sources import load_mir1k, read_stems
from cantata.errors import ConfigError
from cantata.testing import noise, sine

RATE = 16000


def write_stem_folder(root: Path, clip: str, *, suffix: str = ".wav") -> None:
    folder = root / clip
    folder.mkdir(parents=True)
    sf.write(folder / f"vocals{suffix}", sine(660, duration_s=0.5).samples.T, RATE)
    sf.write(folder / f"accompaniment{suffix}", noise(duration_s=0.5).samples.T, RATE)


def write_stereo_clip(path: Path, *, left_hz: float = 440.0, right_hz: float = 1000.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    left, right = (sine(hz, duration_s=0.5).samples[0] for hz in (left_hz, right_hz))
    sf.write(path, np.stack([left, right], axis=1), RATE)


def test_stem_folders(tmp_path):
    write_stem_folder(tmp_path, "amy_1_01")
    write_stem_folder(tmp_path, "amy_1_02", suffix=".ogg")
    write_stem_folder(tmp_path, "bob_7_01")
    examples = load_mir1k(tmp_path)
    assert [ex.id for ex in examples] == ["mir1k/amy_1_01", "mir1k/amy_1_02", "mir1k/bob_7_01"]
    assert [ex.group for ex in examples] == ["amy", "amy", "bob"]
    first = examples[0]
    assert first.audio is None and first.source == "mir1k" and first.regions == ()
    assert set(first.stems) == {"vocals", "accompaniment"}
    assert first.duration_s == pytest.approx(0.5) and first.sample_rate == RATE
    assert examples[1].stems["vocals"].endswith("vocals.ogg")


def test_original_stereo_layout_left_is_accompaniment_right_is_vocals(tmp_path):
    write_stereo_clip(tmp_path / "MIR-1K" / "Wavfile" / "amy_1_01.wav")
    write_stereo_clip(tmp_path / "MIR-1K" / "UndividedWavfile" / "amy_1.wav")
    write_stereo_clip(tmp_path / "MIR-1K" / "LyricsWav" / "amy_1_01.wav")  # speech: not read
    [example] = load_mir1k(tmp_path / "MIR-1K")
    assert example.id == "mir1k/amy_1_01" and example.group == "amy"
    assert example.meta["channel_layout"] == "L=accompaniment,R=vocals"
    assert example.audio.endswith("Wavfile/amy_1_01.wav") and example.stems == {}
    stems = read_stems(example)
    assert stems["vocals"].n_channels == 1 and stems["accompaniment"].n_channels == 1
    np.testing.assert_allclose(stems["vocals"].samples[0], sine(1000, duration_s=0.5).samples[0],
                               atol=1e-3)
    np.testing.assert_allclose(stems["accompaniment"].samples[0],
                               sine(440, duration_s=0.5).samples[0], atol=1e-3)


def test_original_layout_in_any_folder_keeps_the_split(tmp_path):
    write_stereo_clip(tmp_path / "train" / "amy_1_01.wav")
    write_stereo_clip(tmp_path / "test" / "bob_2_03.wav")
    write_stereo_clip(tmp_path / "notes_about.wav")  # not a clip name: ignored
    examples = load_mir1k(tmp_path)
    assert [(ex.group, ex.meta["split"]) for ex in examples] == [("amy", "train"),
                                                                 ("bob", "test")]


def test_with_labels_derives_song_regions(tmp_path):
    folder = tmp_path / "amy_1_01"
    folder.mkdir()
    vocals = sine(660, duration_s=1.0).samples[0].copy()
    vocals[RATE // 2:] = 0
    sf.write(folder / "vocals.wav", vocals, RATE)
    sf.write(folder / "accompaniment.wav", noise(duration_s=1.0).samples[0], RATE)
    [example] = load_mir1k(tmp_path, with_labels=True)
    vocal = [r for r in example.regions if r.label == "vocal"]
    assert len(vocal) == 1 and vocal[0].end_s == pytest.approx(0.5, abs=0.05)
    assert any(r.label == "accompaniment" for r in example.regions)


@pytest.mark.parametrize("case", ["missing", "empty", "mono", "half-folder"])
def test_bad_layouts(tmp_path, case):
    if case == "mono":
        sf.write(tmp_path / "amy_1_01.wav", sine(440, duration_s=0.2).samples[0], RATE)
    if case == "half-folder":
        (tmp_path / "amy_1_01").mkdir()
        sf.write(tmp_path / "amy_1_01" / "vocals.wav", sine(440, duration_s=0.2).samples[0], RATE)
    root = tmp_path / "nowhere" if case == "missing" else tmp_path
    match = "accompaniment" if case == "half-folder" else re.escape(str(root))
    with pytest.raises(ConfigError, match=match):
        load_mir1k(root)
