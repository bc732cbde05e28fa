"""The lyrics API with the debug separator and detector: every word timed, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import cantata
from cantata.errors import AudioLoadError
from cantata.lyrics.api import LyricsAligner, LyricsError, active_regions
from cantata.types import Waveform

RATE = 16000


@pytest.fixture(scope="module")
def aligner():
    return LyricsAligner.from_pretrained("debug")


def test_every_line_and_word_gets_times(aligner, sung):
    wav = Waveform(sung([0.5, 1.0, 1.5, 2.5, 3.0])[None, :], RATE)
    found = aligner.align(wav, "one two three\nfour five", language="en")
    result = found.to_dict()
    assert set(result) == {"file", "language", "lines"}
    assert result["file"] is None and result["language"] == "en"
    words = [w for line in result["lines"] for w in line["words"]]
    assert [w["text"] for w in words] == ["one", "two", "three", "four", "five"]
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and all(0 <= w["start"] <= w["end"] <= 4.0 for w in words)
    for line in result["lines"]:
        assert (line["start"], line["end"]) == (line["words"][0]["start"],
                                                line["words"][-1]["end"])
    assert found.method in ("aligned", "sphinx", "spread")  # sphinx: English, when installed


def test_a_file_is_named_in_the_result(aligner, sung, tmp_path):
    import soundfile as sf

    path = tmp_path / "song.wav"
    sf.write(path, sung([0.5, 1.0]), RATE)
    assert aligner.align(path, "la la").to_dict()["file"] == str(path)


def test_empty_lyrics_and_unreadable_audio_are_errors(aligner, tmp_path):
    wav = Waveform(np.zeros((1, RATE), np.float32), RATE)
    with pytest.raises(LyricsError, match="no words"):
        aligner.align(wav, "\n[Chorus]\n")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    with pytest.raises(AudioLoadError, match="bad.wav"):
        aligner.align(bad, "la la")


def test_silent_vocals_are_spread_with_a_warning(aligner, caplog):
    wav = Waveform(np.zeros((1, 3 * RATE), np.float32), RATE)
    found = aligner.align(wav, "one two three")
    assert found.method == "spread" and found.warnings
    assert "spread evenly" in caplog.text
    starts = [w.start for w in found.lines[0].words]
    assert starts == sorted(starts) and len(set(starts)) == 3


class _Nothing:
    """A singing detector that finds nothing (an instrumental)."""

    def detect(self, src):
        return []


def test_no_singing_uses_the_voice_or_the_whole_song(aligner, sung):
    quiet = LyricsAligner(aligner.separator, _Nothing())
    wav = Waveform(sung([0.5, 1.0, 1.5])[None, :], RATE)
    found = quiet.align(wav, "la la la")
    assert found.warnings[0].startswith("no singing found")
    silent = Waveform(np.zeros((1, 2 * RATE), np.float32), RATE)
    found = quiet.align(silent, "la la")
    assert found.method == "spread" and "whole song" in found.warnings[0]
    assert [w.start for w in found.lines[0].words] == [0.0, 1.0]


def test_lyrics_much_longer_than_the_singing_are_spread(aligner, sung):
    wav = Waveform(sung([0.5, 1.0])[None, :], RATE)
    found = aligner.align(wav, "la " * 400)
    assert found.method == "spread" and "much longer" in found.warnings[-1]
    assert len(found.lines[0].words) == 400


def test_active_regions():
    activity = np.r_[np.zeros(10), np.ones(50), np.zeros(5), np.ones(10)]
    assert active_regions(activity, 0.01) == [(0.1, 0.6)]


def test_the_package_exports_align_lyrics():
    from cantata.lyrics.api import align_lyrics

    assert cantata.align_lyrics is align_lyrics
