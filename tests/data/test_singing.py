"""WORLD singing of espeak-ng syllables: the F0 follows the melody, timing, rests, determinism."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from cantata.data.synth.score import Note
from cantata.data.synth.singing import sing
from cantata.errors import ConfigError

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng is not installed (Debian package espeak-ng)")

RATE = 22050
# (MIDI pitch, note length s) across an octave; None is a 1 s rest
LINE = [(57, 0.5), (60, 0.25), (64, 0.75), (62, 0.25), (65, 1.0), (69, 0.5), (67, 0.25),
        (64, 0.75), None, (60, 0.5), (62, 1.0), (59, 0.25), (57, 0.75)]
REST = (4.75, 5.75)  # seconds: from the end of note 8 to the start of note 9


def melody() -> list[Note]:
    notes, t = [], 0.5
    for item in LINE:
        if item is None:
            t += 1.0
            continue
        notes.append(Note(item[0], t, 0.97 * item[1], 0.8))
        t += item[1]
    return notes


def f0_track(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyworld's pkg_resources deprecation
        import pyworld
    f0, times = pyworld.harvest(samples.astype(np.float64), sample_rate, f0_floor=70.0,
                                f0_ceil=1000.0, frame_period=5.0)
    return f0, times


def note_deviations_cents(f0, times, notes, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Per note: median |F0 - target| in cents over the middle 60 %, and the voiced fraction."""
    devs, voiced = [], []
    for note in notes:
        core = (times >= note.start_s + 0.2 * note.duration_s) & (
            times <= note.end_s - 0.2 * note.duration_s)
        hz = f0[core][f0[core] > 0]
        voiced.append(hz.size / max(core.sum(), 1))
        cents = 1200 * np.log2(hz / 440.0) + 6900 - 100 * (note.pitch_midi + shift)
        devs.append(np.median(np.abs(cents)) if hz.size else np.inf)
    return np.array(devs), np.array(voiced)


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20)


def outside(breaths, start_s: float, end_s: float, rate: int = RATE) -> np.ndarray:
    """Sample indices in [start_s, end_s) that no listed breath covers."""
    idx = np.arange(int(start_s * rate), int(end_s * rate))
    for a, b in breaths:
        idx = idx[(idx < a * rate) | (idx >= b * rate)]
    return idx


@pytest.fixture(scope="module", params=[0, 2], ids=["female", "male"])
def sung(request):
    notes = melody()
    wav, meta = sing(notes, np.random.default_rng(request.param), sample_rate=RATE)
    f0, times = f0_track(wav.samples[0], RATE)
    return notes, wav, meta, f0, times


def test_f0_follows_the_melody(sung):
    notes, _, meta, f0, times = sung
    assert meta["transpose_semitones"] % 12 == 0
    devs, voiced = note_deviations_cents(f0, times, notes, meta["transpose_semitones"])
    assert np.mean(devs < 50) >= 0.9, f"median |deviation| per note (cents): {devs.round()}"
    assert voiced.min() > 0.6


def test_the_f0_check_catches_a_wrong_pitch(sung):
    notes, _, meta, f0, times = sung
    devs, _ = note_deviations_cents(f0, times, notes, meta["transpose_semitones"] + 1)
    assert np.mean(devs < 50) <= 0.1


def test_silence_in_the_rest_and_voice_in_the_notes(sung):
    notes, wav, meta, _, _ = sung
    x = wav.samples[0]
    frames = x[: x.size // 220 * 220].reshape(-1, 220)
    peak_db = 10 * np.log10(np.max(np.mean(frames.astype(np.float64) ** 2, axis=1)))
    rest = outside(meta["breaths_s"], REST[0] + 0.05, REST[1] - 0.05)
    assert rest.size > 0.2 * RATE and rms_db(x[rest]) < peak_db - 40
    for a, b in meta["breaths_s"]:
        assert rms_db(x[int(a * RATE):int(b * RATE)]) < peak_db - 20  # breaths stay quiet
    for note in notes:
        core = x[int((note.start_s + 0.2 * note.duration_s) * RATE):
                 int((note.end_s - 0.2 * note.duration_s) * RATE)]
        assert rms_db(core) > peak_db - 25


def test_sample_zero_is_time_zero_and_the_end_is_covered():
    notes = [Note(60, 1.0, 0.6), Note(62, 1.6, 0.4), Note(64, 2.0, 0.8)]
    wav, meta = sing(notes, np.random.default_rng(5), sample_rate=16000)
    assert wav.sample_rate == 16000 and wav.n_samples >= notes[-1].end_s * 16000
    x = wav.samples[0].astype(np.float64)
    before = outside(meta["breaths_s"], 0.0, 0.95, rate=16000)
    assert np.max(np.abs(x[before])) < 1e-3 * np.max(np.abs(x))
    assert rms_db(x[int(1.1 * 16000):int(1.5 * 16000)]) > rms_db(x) - 10


def test_same_seed_same_song_other_seed_other_song():
    notes = melody()[:4]
    a, meta_a = sing(notes, np.random.default_rng(11))
    b, meta_b = sing(notes, np.random.default_rng(11))
    assert np.array_equal(a.samples, b.samples) and meta_a == meta_b
    c, meta_c = sing(notes, np.random.default_rng(12))
    assert meta_c != meta_a
    assert json.loads(json.dumps(meta_a)) == meta_a


def test_out_of_range_melody_moves_by_octaves():
    notes = [Note(30, 0.0, 1.0), Note(33, 1.0, 1.0)]  # F#1, far below any voice
    wav, meta = sing(notes, np.random.default_rng(1), language="es")
    shift = meta["transpose_semitones"]
    assert shift > 0 and shift % 12 == 0 and meta["language"] == "es"
    f0, times = f0_track(wav.samples[0], wav.sample_rate)
    devs, _ = note_deviations_cents(f0, times, notes, shift)
    assert np.all(devs < 50)


def test_velocity_sets_the_level():
    notes = [Note(60, 0.0, 0.5, velocity=1.0), Note(60, 0.8, 0.5, velocity=0.3)]
    wav, _ = sing(notes, np.random.default_rng(3))
    x = wav.samples[0]
    loud = rms_db(x[int(0.15 * RATE):int(0.4 * RATE)])
    soft = rms_db(x[int(0.95 * RATE):int(1.2 * RATE)])
    assert loud - soft > 5


def test_bad_melodies_and_languages_are_errors():
    with pytest.raises(ConfigError, match="no notes"):
        sing([], np.random.default_rng(0))
    with pytest.raises(ConfigError, match="language"):
        sing(melody(), np.random.default_rng(0), language="tlh")
