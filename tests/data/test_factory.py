"""The synthetic factory end to end: files, exact stems, labels, determinism, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cantata import audio
from cantata.data.records import read_manifest
from cantata.data.synth.factory import FactoryConfig, build_example, synthesize

CONFIG = FactoryConfig(sample_rate=16000, example_s=6.0)


@pytest.fixture(scope="module")
def song_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("songs")
    synthesize("song", hours=2 * 6.0 / 3600, out_dir=out, seed=1, config=CONFIG)
    return out


def test_song_folder_layout_and_manifest(song_dir):
    examples = list(read_manifest(song_dir))
    assert [ex.id for ex in examples] == ["song-000000", "song-000001"]
    for ex in examples:
        assert set(ex.stems) == {"vocals", "accompaniment"}
        assert ex.source == "synth-song" and ex.sample_rate == 16000
        mix = audio.load(ex.audio)
        stems = [audio.load(p) for p in ex.stems.values()]
        assert mix.n_samples == 6 * 16000 and mix.sample_rate == 16000
        np.testing.assert_allclose(mix.samples, sum(s.samples for s in stems), atol=1e-5)
        assert {seg.label for seg in ex.regions} <= {"vocal", "accompaniment", "silence"}
        assert -7.0 <= 20 * np.log10(np.abs(mix.samples).max()) <= -0.9


def test_song_labels_agree_with_the_section_plan(song_dir):
    for ex in read_manifest(song_dir):
        silent_backing = [(s, e) for kind, s, e in ex.meta["sections"]
                          if kind in ("a_cappella", "silence") and e - s > 0.5]
        for start, end in silent_backing:
            middle = (start + end) / 2
            assert not any(seg.label == "accompaniment" and seg.start_s <= middle < seg.end_s
                           for seg in ex.regions)
        vocal_s = sum(seg.duration_s for seg in ex.regions if seg.label == "vocal")
        sung_s = sum(e - s for kind, s, e in ex.meta["sections"]
                     if kind in ("verse", "a_cappella"))
        assert vocal_s <= sung_s + 0.3


def test_deterministic_and_resumable(song_dir, tmp_path):
    again = build_example("song", 1, seed=1, out_dir=tmp_path, config=CONFIG)
    first = audio.load(song_dir / "song-000001" / "mixture.flac")
    np.testing.assert_array_equal(audio.load(again.audio).samples, first.samples)
    report = synthesize("song", hours=2 * 6.0 / 3600, out_dir=song_dir, seed=1, config=CONFIG)
    assert report.n_made == 0 and report.n_examples == 2


def test_interrupted_example_is_rebuilt(song_dir):
    part = song_dir / ".song-000002.part"
    part.mkdir()
    (part / "mixture.flac").write_bytes(b"half written")
    report = synthesize("song", hours=3 * 6.0 / 3600, out_dir=song_dir, seed=1, config=CONFIG)
    assert report.n_made == 1 and not part.exists()
    assert json.loads((song_dir / "song-000002" / "example.json").read_text())["id"] == \
        "song-000002"


def test_speech_mix(tmp_path):
    ex = build_example("speech-mix", 0, seed=3, out_dir=tmp_path, config=CONFIG)
    assert set(ex.stems) == {"speech", "instrumental"}
    assert {seg.label for seg in ex.regions} == {"speech"}
    speech = audio.load(ex.stems["speech"])
    covered = sum(seg.duration_s for seg in ex.regions)
    assert 0.5 < covered < 6.0
    # frames labelled speech carry the speech stem's energy
    inside = np.zeros(speech.n_samples, bool)
    for seg in ex.regions:
        inside[round(seg.start_s * 16000):round(seg.end_s * 16000)] = True
    energy_in = np.mean(speech.samples[0, inside] ** 2)
    energy_out = np.mean(speech.samples[0, ~inside] ** 2) if (~inside).any() else 0.0
    assert energy_in > 100 * energy_out
