"""The ``tag`` analyzer: every tag's score and decision as the track's summary."""

from __future__ import annotations

from cantata import analyzers
from cantata.analyzers import TrackAudio
from cantata.tag import Tagger
from cantata.testing import noise


def test_tag_analyzer_summary():
    (spec,) = analyzers.resolve("tag=debug")
    wav = noise(duration_s=2.0, sample_rate=16000, seed=4)
    (result,) = analyzers.build(spec).analyze([TrackAudio("x.wav", "h", wav)])
    expected = Tagger.from_pretrained("debug").tag(wav).ranked()
    assert result.summary == {"tags": expected,
                              "present": [t["tag"] for t in expected if t["present"]]}
    assert result.key == "tag@1:debug"
    (shipped,) = analyzers.resolve("tag")
    assert shipped.model == "tagger"
