"""The `lyrics` scan analyzer: only tracks with lyrics beside them are aligned."""

from __future__ import annotations

import pytest
import soundfile as sf

from cantata.analyzers import TrackAudio, build, resolve
from cantata.errors import ModelLoadError

RATE = 16000


def test_resolve_names_both_models():
    (spec,) = resolve("lyrics=debug")
    assert (spec.name, spec.model, spec.model_version) == ("lyrics", "debug", "debug+debug")
    with pytest.raises(ModelLoadError, match="available: default, debug"):
        resolve("lyrics=whisper")


def test_lines_as_regions_words_in_the_summary(tmp_path, sung):
    (spec,) = resolve("lyrics=debug")
    analyzer = build(spec)
    with_lyrics = tmp_path / "a.wav"
    sf.write(with_lyrics, sung([0.5, 1.0, 1.5]), RATE)
    (tmp_path / "a.txt").write_text("one two\nthree\n", encoding="utf-8")
    without = tmp_path / "b.wav"
    sf.write(without, sung([0.5]), RATE)
    found, skipped = analyzer.analyze([TrackAudio(str(with_lyrics), "h1"),
                                       TrackAudio(str(without), "h2")])
    assert skipped.summary == {"lyrics_file": None} and skipped.regions == ()
    assert [r.label for r in found.regions] == ["one two", "three"]
    summary = found.summary
    assert summary["lyrics_file"] == str(tmp_path / "a.txt") and summary["lines"] == 2
    assert [w[2] for w in summary["words"]] == ["one", "two", "three"]
    assert all(0 <= w[0] <= w[1] for w in summary["words"])
    assert found.key == "lyrics@1:debug+debug"
