"""Labels from clean stems: hysteresis, gap bridging, regions <-> frames."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.data.labels import ActivityConfig, level_dbfs, song_segments, stem_activity
from cantata.regions import clean_runs, frames_to_segments, hysteresis, segments_to_frames
from cantata.testing import noise, sine
from cantata.types import Segment, Waveform

RATE = 8000


def bursts(spans_s: list[tuple[float, float]], *, duration_s: float, amplitude: float = 0.3,
           seed: int = 0) -> Waveform:
    """Noise bursts at the given (start, end) seconds, silence elsewhere."""
    x = np.zeros(round(duration_s * RATE), np.float32)
    carrier = noise(duration_s=duration_s, sample_rate=RATE, amplitude=amplitude, seed=seed)
    for start, end in spans_s:
        x[round(start * RATE):round(end * RATE)] = carrier.samples[0, round(start * RATE):
                                                                   round(end * RATE)]
    return Waveform(x, RATE)


def test_level_of_a_sine_is_its_rms():
    level = level_dbfs(sine(440, duration_s=1.0, sample_rate=RATE, amplitude=0.5),
                       hop_s=0.01, win_s=0.04)
    assert len(level) == 100
    assert np.median(level) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.1)


def test_hysteresis_holds_between_thresholds():
    level = np.array([-50, -20, -30, -30, -45, -30, -20], float)
    np.testing.assert_array_equal(hysteresis(level, on_db=-25, off_db=-40),
                                  [0, 1, 1, 1, 0, 0, 1])


def test_clean_runs_bridges_gaps_and_drops_blips():
    active = np.array([1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0], bool)
    np.testing.assert_array_equal(clean_runs(active, min_gap_frames=2, min_region_frames=2),
                                  [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])


def test_stem_activity_finds_bursts_and_bridges_short_gaps():
    wav = bursts([(0.5, 1.5), (1.6, 2.0), (3.0, 3.5)], duration_s=4.0)
    segments = frames_to_segments(stem_activity(wav), hop_s=0.01, label="vocal",
                                  duration_s=4.0)
    edges = [t for s in segments for t in (s.start_s, s.end_s)]
    assert edges == pytest.approx([0.5, 2.0, 3.0, 3.5], abs=0.03)


def test_quiet_stem_is_never_active():
    wav = bursts([(0.5, 1.5)], duration_s=2.0, amplitude=1e-4)
    assert not stem_activity(wav).any()


def test_segments_frames_roundtrip():
    # boundaries halfway between frame centres (frame i is centred on i * hop) come back
    segments = [Segment(0.105, 0.355, "vocal"), Segment(0.0, 0.5, "accompaniment")]
    frames = segments_to_frames(segments, labels=("vocal", "accompaniment", "silence"),
                                n_frames=60, hop_s=0.01)
    assert frames.shape == (3, 60)
    assert frames[0].sum() == 25 and frames[1].sum() == 50 and not frames[2].any()
    (back,) = frames_to_segments(frames[0], hop_s=0.01, label="vocal")
    assert (back.start_s, back.end_s, back.label) == (pytest.approx(0.105),
                                                      pytest.approx(0.355), "vocal")


def test_segments_to_frames_with_offset():
    frames = segments_to_frames([Segment(1.0, 2.0, "vocal")], labels=("vocal",), n_frames=10,
                                hop_s=0.2, offset_s=0.5)
    np.testing.assert_array_equal(frames[0], [0, 0, 0, 1, 1, 1, 1, 1, 0, 0])


def test_song_segments_vocal_accompaniment_silence():
    vocals = bursts([(1.0, 3.0)], duration_s=5.0, seed=1)
    accompaniment = bursts([(0.0, 4.0)], duration_s=5.0, amplitude=0.1, seed=2)
    segments = song_segments({"vocals": vocals, "accompaniment": accompaniment})
    spans = {(s.label, round(s.start_s, 1), round(s.end_s, 1)) for s in segments}
    assert spans == {("accompaniment", 0.0, 4.0), ("vocal", 1.0, 3.0), ("silence", 4.0, 5.0)}


def test_activity_config_thresholds_matter():
    wav = bursts([(0.5, 1.0)], duration_s=2.0)
    quiet = Waveform(wav.samples * 0.0 + wav.samples * (10 ** (-30 / 20)), RATE)
    loud_and_quiet = Waveform(np.concatenate([wav.samples, quiet.samples], axis=1), RATE)
    strict = stem_activity(loud_and_quiet, ActivityConfig(on_db=-20, off_db=-25))
    lenient = stem_activity(loud_and_quiet, ActivityConfig(on_db=-40, off_db=-45))
    assert strict.sum() < lenient.sum()
