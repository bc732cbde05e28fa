"""iKala loader: stereo excerpts, pitch-derived vocal regions, lyrics, singer mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cantata.data.sources import load_ikala, read_stems
from cantata.errors import ConfigError
from cantata.testing import sine

RATE = 44100


def write_ikala(root: Path, names=("10161_chorus", "10161_verse", "10170_chorus")) -> None:
    (root / "Wavfile").mkdir(parents=True)
    for name in names:
        left = sine(300, duration_s=0.5, sample_rate=RATE).samples[0]
        right = sine(800, duration_s=0.5, sample_rate=RATE).samples[0]
        sf.write(root / "Wavfile" / f"{name}.wav", np.stack([left, right], axis=1), RATE)


def test_excerpts_grouped_by_song_without_mapping(tmp_path):
    write_ikala(tmp_path)
    examples = load_ikala(tmp_path)
    assert [ex.id for ex in examples] == ["ikala/10161_chorus", "ikala/10161_verse",
                                          "ikala/10170_chorus"]
    assert [ex.group for ex in examples] == ["10161", "10161", "10170"]
    assert examples[1].meta["section"] == "verse" and examples[0].regions == ()
    stems = read_stems(examples[0])
    np.testing.assert_allclose(stems["vocals"].samples[0],
                               sine(800, duration_s=0.5, sample_rate=RATE).samples[0], atol=1e-3)


def test_singer_mapping_pitch_and_lyrics(tmp_path):
    write_ikala(tmp_path)
    (tmp_path / "id_mapping.txt").write_text("singer\tsong\n3\t10161\n5\t10170\n")
    (tmp_path / "PitchLabel").mkdir()
    pitch = [0.0] * 5 + [60.5] * 8 + [0.0] * 3  # voiced frames 5..12 of 32 ms
    (tmp_path / "PitchLabel" / "10161_chorus.pv").write_text("\n".join(map(str, pitch)) + "\n")
    (tmp_path / "Lyrics").mkdir()
    (tmp_path / "Lyrics" / "10161_chorus.lab").write_text("160 416 你好 ni hao\n",
                                                          encoding="utf-8")
    examples = load_ikala(tmp_path)
    assert [ex.group for ex in examples] == ["3", "3", "5"]
    [region] = examples[0].regions
    assert (region.label, region.start_s, region.end_s) == ("vocal", pytest.approx(0.16),
                                                           pytest.approx(0.416))
    assert examples[0].meta["labels"] == ["vocal"]
    assert examples[0].meta["lyrics"] == [[0.16, 0.416, "你好 ni hao"]]
    assert "labels" not in examples[1].meta


@pytest.mark.parametrize("case", ["no-wavfile", "empty-wavfile", "bad-pitch"])
def test_bad_layouts(tmp_path, case):
    if case == "empty-wavfile":
        (tmp_path / "Wavfile").mkdir()
    if case == "bad-pitch":
        write_ikala(tmp_path, names=("10161_chorus",))
        (tmp_path / "PitchLabel").mkdir()
        (tmp_path / "PitchLabel" / "10161_chorus.pv").write_text("sixty\n")
    with pytest.raises(ConfigError, match="Wavfile|pitch"):
        load_ikala(tmp_path)
