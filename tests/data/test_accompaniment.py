"""Accompaniment: composing (bank and generated), MIDI, FluidSynth rendering, effects."""

from __future__ import annotations

import json
import shutil

import mido
import numpy as np
import pytest

from cantata.data.synth import render as render_module
from cantata.data.synth.accompaniment import (
    DEFAULT_SOUNDFONT,
    SOURCES,
    Arrangement,
    Track,
    compose,
    random_accompaniment,
    render,
)
from cantata.data.synth.effects import apply_effects
from cantata.data.synth.instruments import DRUM_CHANNEL, GM_DRUM_KEYS
from cantata.data.synth.melodies import load_bank
from cantata.data.synth.render import write_midi
from cantata.data.synth.score import Note
from cantata.errors import CantataError, ConfigError
from cantata.testing import noise
from cantata.types import Waveform

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not DEFAULT_SOUNDFONT.is_file(),
    reason="Debian packages fluidsynth and fluid-soundfont-gm are not installed")


def phrases(melody: tuple[Note, ...], *, min_gap_s: float = 0.3) -> list[list[Note]]:
    """Split a melody where the singer rests at least ``min_gap_s``."""
    groups = [[melody[0]]]
    for before, note in zip(melody, melody[1:], strict=False):
        if note.start_s - before.end_s >= min_gap_s:
            groups.append([])
        groups[-1].append(note)
    return groups


@pytest.mark.parametrize("style", [None, "bank", "pop", "waltz"])
def test_compose_is_deterministic(style):
    one = compose(np.random.default_rng(11), duration_s=8.0, style=style)
    two = compose(np.random.default_rng(11), duration_s=8.0, style=style)
    assert one == two and one.meta == two.meta
    assert one != compose(np.random.default_rng(12), duration_s=8.0, style=style)


@pytest.mark.parametrize("style", SOURCES)
def test_every_source_composes_a_singable_melody_inside_the_duration(style):
    for seed in range(3):
        arr = compose(np.random.default_rng(seed), duration_s=6.0, style=style)
        assert arr.meta["source"] == ("bank" if style == "bank" else "generated")
        assert json.loads(json.dumps(arr.meta)) == json.loads(json.dumps(arr.meta, default=str))
        assert arr.melody, f"{style} seed {seed}: no melody"
        for note in arr.melody:
            assert 0.0 <= note.start_s and note.end_s <= 6.0 + 1e-9 and note.duration_s > 0
            assert 52 <= note.pitch_midi <= 76
        for track in arr.tracks:
            assert track.notes and all(0 <= n.start_s < 6.0 and n.end_s <= 6.0 + 1e-9
                                       for n in track.notes)


def test_both_sources_are_drawn_at_random():
    sources = {compose(np.random.default_rng(seed), duration_s=4.0).meta["source"]
               for seed in range(12)}
    assert sources == {"bank", "generated"}


@pytest.mark.parametrize("style", ["bank", "pop", "ballad", "waltz", "jazz"])
def test_melody_comes_in_phrases_with_rests(style):
    for seed in range(4):
        arr = compose(np.random.default_rng(seed), duration_s=30.0, style=style)
        groups = phrases(arr.melody)
        assert len(groups) >= 3, f"{style} seed {seed}: {len(groups)} phrases in 30 s"
        lengths = [g[-1].end_s - g[0].start_s for g in groups[:-1]]
        assert max(lengths) < 11.0, f"{style} seed {seed}: phrases {lengths}"
        gaps = [b[0].start_s - a[-1].end_s for a, b in zip(groups, groups[1:], strict=False)]
        assert 0.5 - 1e-6 <= np.median(gaps) <= 3.0, f"{style} {seed}: {gaps}"


def test_drums_play_gm_drum_keys_on_channel_10():
    arr = compose(np.random.default_rng(0), duration_s=8.0, style="rock")  # rock always drums
    drums = [t for t in arr.tracks if t.is_drums]
    assert len(drums) == 1 and drums[0].channel == DRUM_CHANNEL == 9
    assert {int(n.pitch_midi) for n in drums[0].notes} <= GM_DRUM_KEYS
    assert all(t.channel != DRUM_CHANNEL for t in arr.tracks if t.role != "drums")
    assert len({t.channel for t in arr.tracks}) == len(arr.tracks)


def test_bank_piece_keeps_its_provenance_and_harmony():
    bank = {p.source: p for p in load_bank()}
    for seed in range(6):
        arr = compose(np.random.default_rng(seed), duration_s=8.0, style="bank")
        piece = bank[arr.meta["piece"]]
        assert arr.meta["licence"] == piece.licence and arr.meta["collection"]
        roles = {t.role for t in arr.tracks}
        if arr.meta["harmony"] == "original":
            assert piece.harmony and {"alto", "tenor", "bass"} <= roles
        else:
            assert {"comp", "bass"} <= roles and "style" in arr.meta


def test_compose_rejects_bad_arguments():
    with pytest.raises(ConfigError):
        compose(np.random.default_rng(0), duration_s=0.0)
    with pytest.raises(ConfigError, match="unknown accompaniment style"):
        compose(np.random.default_rng(0), duration_s=4.0, style="polka")


def test_midi_file_carries_tempo_programs_and_drum_channel(tmp_path):
    arr = compose(np.random.default_rng(3), duration_s=6.0, style="rock")
    write_midi(arr, tmp_path / "song.mid")
    mid = mido.MidiFile(tmp_path / "song.mid")
    tempo = next(m.tempo for m in mid.tracks[0] if m.type == "set_tempo")
    assert mido.tempo2bpm(tempo) == pytest.approx(arr.tempo_bpm, rel=1e-3)
    messages = [m for track in mid.tracks[1:] for m in track]
    programs = {m.channel: m.program for m in messages if m.type == "program_change"}
    assert programs == {t.channel: t.program for t in arr.tracks}
    ons = [m for m in messages if m.type == "note_on"]
    assert len(ons) == sum(len(t.notes) for t in arr.tracks)
    assert {m.note for m in ons if m.channel == DRUM_CHANNEL} <= GM_DRUM_KEYS


@needs_fluidsynth
def test_render_gives_stereo_of_the_right_length_not_silent_not_clipped():
    arr = compose(np.random.default_rng(4), duration_s=5.0)
    wav = render(arr, sample_rate=16000, rng=np.random.default_rng(1))
    assert wav.sample_rate == 16000 and wav.samples.shape == (2, 80000)
    peak = np.abs(wav.samples).max()
    assert 10 ** (-12.5 / 20) <= peak <= 10 ** (-0.9 / 20)
    assert np.sqrt(np.mean(wav.samples ** 2)) > 1e-3
    assert np.isfinite(wav.samples).all()


def one_note(pitch: int, program: int, *, duration_s: float = 2.0) -> Arrangement:
    note = Note(float(pitch), 0.0, duration_s - 0.2, 0.8)
    return Arrangement(duration_s, 120.0, "C major", "4/4", (Track("lead", program, 0, (note,)),),
                       (), {})


def heard_pitch(x: np.ndarray, sample_rate: int) -> float:
    """The pitch (MIDI) whose first five harmonics carry the most log-spectral energy."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / sample_rate)
    candidates = np.arange(36.0, 90.0, 0.05)
    f0 = 440 * 2 ** ((candidates - 69) / 12)
    score = sum(np.log(1e-6 + np.interp(h * f0, freqs, spectrum)) for h in range(1, 6))
    return float(candidates[np.argmax(score)])


@needs_fluidsynth
@pytest.mark.parametrize(("pitch", "program"), [(69, 73), (57, 40), (64, 19), (72, 0),
                                                (40, 33)])
def test_render_plays_the_written_pitch(pitch, program):
    """Flute A4, violin A3, church organ E4, piano C5, finger bass E2: heard as written."""
    wav = render(one_note(pitch, program), sample_rate=22050)
    heard = heard_pitch(wav.to_mono().samples[0, 2205:22050], 22050)  # 0.1-1.0 s
    assert abs(heard - pitch) < 1.0, f"wrote MIDI {pitch}, heard {heard:.2f}"


@needs_fluidsynth
def test_render_is_silent_where_no_note_plays():
    late = Note(60.0, 2.0, 0.5, 0.8)
    arr = Arrangement(3.0, 120.0, "C major", "4/4", (Track("keys", 0, 0, (late,)),), (), {})
    x = render(arr, sample_rate=16000).to_mono().samples[0]
    assert np.abs(x[: 16000 * 19 // 10]).max() < 1e-4 < np.abs(x[32000:40000]).max()


@needs_fluidsynth
def test_drum_kits_sound_on_channel_10():
    hits = tuple(Note(float(key), 0.25 * i, 0.2, 0.9) for i, key in enumerate((36, 38, 42, 49)))
    rendered = []
    for kit in (0, 25):  # Standard, TR-808
        arr = Arrangement(1.5, 120.0, "C major", "4/4", (Track("drums", kit, 9, hits),), (), {})
        rendered.append(render(arr, sample_rate=16000).to_mono().samples[0])
    assert all(np.sqrt(np.mean(x ** 2)) > 0.01 for x in rendered)
    assert np.abs(rendered[0] - rendered[1]).max() > 0.1  # the kit preset is applied


def test_effects_keep_the_length_and_set_a_peak():
    wav = Waveform(np.tile(noise(duration_s=1.5, sample_rate=16000, amplitude=0.2).samples,
                           (2, 1)), 16000)
    for seed in range(4):
        out, described = apply_effects(wav, np.random.default_rng(seed))
        assert out.samples.shape == wav.samples.shape and out.sample_rate == 16000
        assert 20 * np.log10(np.abs(out.samples).max()) == pytest.approx(
            described["peak_dbfs"], abs=0.01)


def test_missing_fluidsynth_names_the_debian_package(monkeypatch):
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    arr = one_note(60, 0)
    with pytest.raises(CantataError, match="'fluidsynth'.*setup.sh train"):
        render(arr)


def test_missing_soundfont_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(render_module, "DEFAULT_SOUNDFONT", tmp_path / "none.sf2")
    monkeypatch.setattr(render_module.shutil, "which", lambda name: "/usr/bin/fluidsynth")
    with pytest.raises(CantataError, match="fluid-soundfont-gm.*setup.sh train"):
        render(one_note(60, 0))


@needs_fluidsynth
def test_random_accompaniment_records_the_effects():
    wav, arr = random_accompaniment(np.random.default_rng(2), duration_s=4.0, sample_rate=16000)
    assert wav.samples.shape == (2, 64000)
    assert "effects" in arr.meta and "chain" in arr.meta["effects"]
