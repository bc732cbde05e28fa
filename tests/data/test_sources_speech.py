"""Speech folders: LibriSpeech layout with transcripts, and the generic speaker rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cantata.data.sources import load_speech_folder, load_vocals_folder, read_stem
from cantata.errors import ConfigError
from cantata.testing import noise

RATE = 16000


def write_audio(path: Path, samples: np.ndarray | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    x = noise(duration_s=0.4, sample_rate=RATE).samples[0] if samples is None else samples
    sf.write(path, x, RATE)


def test_librispeech_layout_with_transcripts(tmp_path):
    chapter = tmp_path / "19" / "198"
    write_audio(chapter / "19-198-0001.flac")
    write_audio(chapter / "19-198-0002.flac")
    (chapter / "19-198.trans.txt").write_text("19-198-0001 NORTHANGER ABBEY\n")
    examples = load_speech_folder(tmp_path)
    assert [ex.id for ex in examples] == [f"{tmp_path.name}/19/198/19-198-0001",
                                          f"{tmp_path.name}/19/198/19-198-0002"]
    assert {ex.group for ex in examples} == {"19"}
    assert examples[0].meta == {"text": "NORTHANGER ABBEY"} and examples[1].meta == {}
    assert examples[0].regions == () and examples[0].duration_s == pytest.approx(0.4)


def test_generic_speaker_rules(tmp_path):
    write_audio(tmp_path / "tsp" / "FA" / "FA01_01.flac")
    write_audio(tmp_path / "tsp" / "FA" / "FA02_01.flac")
    write_audio(tmp_path / "librispeech" / "198-209-0000.hq.ogg")
    write_audio(tmp_path / "alice" / "001.wav")
    write_audio(tmp_path / "solo.wav")
    (tmp_path / "librispeech" / "198-209-0000.txt").write_text("attribution, not audio\n")
    groups = {ex.id.split("/", 1)[1]: ex.group for ex in load_speech_folder(tmp_path)}
    assert groups == {"tsp/FA/FA01_01": "FA01", "tsp/FA/FA02_01": "FA02",
                      "librispeech/198-209-0000": "198", "alice/001": "alice", "solo": "solo"}


def test_with_labels_gives_speech_regions(tmp_path):
    x = noise(duration_s=1.0, sample_rate=RATE, amplitude=0.2).samples[0].copy()
    x[: RATE // 2] = 0
    write_audio(tmp_path / "spk_1.wav", x)
    [example] = load_speech_folder(tmp_path, with_labels=True)
    [region] = example.regions
    assert region.label == "speech" and region.start_s == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("case", ["missing", "empty"])
def test_bad_layouts(tmp_path, case):
    root = tmp_path / "nowhere" if case == "missing" else tmp_path
    (tmp_path / "notes.txt").write_text("no audio here")
    with pytest.raises(ConfigError, match="speech|audio"):
        load_speech_folder(root)


def test_a_cappella_folder_gives_vocal_stems_grouped_by_singer(tmp_path):
    write_audio(tmp_path / "takes" / "alice" / "take1.wav")
    write_audio(tmp_path / "takes" / "FA01_02.flac")
    examples = load_vocals_folder(tmp_path / "takes")
    assert [ex.group for ex in examples] == ["FA01", "alice"]
    assert all(ex.audio is None and set(ex.stems) == {"vocals"} for ex in examples)
    assert read_stem(examples[0], "vocals").duration_s == pytest.approx(0.4)
    assert examples[0].source == "vocals:takes"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no audio files found in the vocals folder"):
        load_vocals_folder(tmp_path / "empty")
