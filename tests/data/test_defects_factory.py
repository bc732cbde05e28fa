"""``synth defects``: clean music in, clips with exact strong and weak labels out, resumable."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cantata import audio
from cantata.cli import main
from cantata.data.records import Example, read_manifest
from cantata.data.sources.defect_labels import weak_labels
from cantata.data.synth import defect_clips
from cantata.data.synth.defect_clips import (
    DefectSetConfig,
    build_defect_example,
    clean_music,
    synthesize_defects,
)
from cantata.data.synth.defects import Defect, InjectConfig, inject
from cantata.errors import ConfigError
from cantata.types import Waveform

#: Opus only: these tests must not depend on the ffmpeg command (GSM has its own test).
OPUS = InjectConfig(phone_codecs=("opus",))


def tone(seconds: float, rate: int, channels: int, freq: float = 330.0) -> Waveform:
    rng = np.random.default_rng(int(freq))
    t = np.arange(round(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * freq * t) * (1 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
    return Waveform(np.stack([x + 0.01 * rng.standard_normal(len(t))] * channels), rate)


@pytest.fixture
def music(tmp_path) -> Path:
    """A mono 16 kHz track and a stereo 44.1 kHz one."""
    folder = tmp_path / "music"
    folder.mkdir()
    audio.save(folder / "mono.flac", tone(6.0, 16000, 1), subtype="PCM_24")
    audio.save(folder / "stereo.flac", tone(5.0, 44100, 2, 440.0), subtype="PCM_24")
    return folder


def config(music: Path, **kw) -> DefectSetConfig:
    return DefectSetConfig(music=(str(music),), example_s=3.0,
                           inject=kw.pop("inject", OPUS), **kw)


def test_manifest_reads_back_with_strong_and_weak_labels(music, tmp_path):
    out = tmp_path / "out"
    report = synthesize_defects(hours=24 * 3.0 / 3600, out_dir=out, config=config(music))
    assert report.n_examples == report.n_made == 24
    examples = list(read_manifest(out))
    assert [ex.id for ex in examples] == [f"defects-{i:06d}" for i in range(24)]
    assert {ex.sample_rate for ex in examples} == {16000, 44100}
    channels = set()
    for ex in examples:
        wav = audio.load(ex.audio)
        channels.add(wav.n_channels)
        assert wav.n_samples == round(ex.duration_s * ex.sample_rate)
        defects = [Defect.from_dict(d) for d in ex.meta["defects"]]
        assert list(weak_labels(ex)) == sorted({d.type for d in defects})
        assert sorted(r.label for r in ex.regions) == sorted(
            d.type for d in defects for _ in d.events)
        for region, (start, end) in zip(sorted(ex.regions, key=lambda r: r.start_s),
                                        sorted(ev for d in defects for ev in d.events),
                                        strict=True):
            assert region.start_s <= start / ex.sample_rate < end / ex.sample_rate <= region.end_s
            assert region.end_s - region.start_s <= (end - start) / ex.sample_rate + 2e-4
        assert ex.group == ex.meta["clip"]["track"] and ex.source == "music"
    assert channels == {1, 2}
    assert any(not weak_labels(ex) for ex in examples) and any(weak_labels(ex) for ex in examples)


def test_written_audio_is_the_clean_clip_with_the_labelled_defects(music, tmp_path):
    """Re-inject from the recorded provenance: the file holds exactly that."""
    out = tmp_path / "out"
    synthesize_defects(hours=10 * 3.0 / 3600, out_dir=out, config=config(music))
    for ex in read_manifest(out):
        clip = ex.meta["clip"]
        source = Path(clip["file"])
        clean = audio.load(source, offset_s=clip["offset_s"],
                           duration_s=ex.duration_s + defect_clips.MARGIN_S)
        n = round(ex.duration_s * ex.sample_rate)
        defects = [Defect.from_dict(d) for d in ex.meta["defects"]]
        buffer = defect_clips.prepare_clean(clean.samples, clean.sample_rate, gain=clip["gain"],
                                            encoded=clip["encoded"])
        expected = inject(buffer, clean.sample_rate, n, defects)
        written = audio.load(ex.audio).samples
        tolerance = 0 if ex.audio.endswith(".wav") else 2.0 ** -22
        assert np.abs(written - expected).max() <= tolerance
        for d in defects:
            if d.type == "dropout":
                assert all(not written[:, s:e].any() for s, e in d.events)


def test_clips_over_full_scale_are_float_wav_and_keep_the_defect(tmp_path):
    loud = tmp_path / "loud"
    loud.mkdir()
    audio.save(loud / "a.wav", Waveform(tone(6.0, 16000, 1).samples * 3.0, 16000),
               subtype="FLOAT")
    inj = InjectConfig(p_clean=0.0, max_defects=1, types=("dc_offset",), phone_codecs=("opus",))
    synthesize_defects(hours=8 * 3.0 / 3600, out_dir=tmp_path / "out",
                       config=config(loud, inject=inj))
    suffixes = set()
    for ex in read_manifest(tmp_path / "out"):
        (defect,) = ex.meta["defects"]
        assert ex.meta["clip"]["gain"] < 1  # the clean clip was brought under full scale
        peak = np.abs(audio.load(ex.audio).samples).max()
        assert (peak > 1.0) == ex.audio.endswith(".wav")
        assert defect["type"] == "dc_offset"
        suffixes.add(Path(ex.audio).suffix)
    assert ".wav" in suffixes


def test_deterministic_and_resumable(music, tmp_path):
    cfg = config(music)
    first = tmp_path / "first"
    synthesize_defects(hours=4 * 3.0 / 3600, out_dir=first, config=cfg)
    second = tmp_path / "second"
    synthesize_defects(hours=2 * 3.0 / 3600, out_dir=second, config=cfg)  # interrupted run
    shutil.rmtree(second / "defects-000001")
    (second / ".defects-000001.part").mkdir()  # a half-written example
    report = synthesize_defects(hours=4 * 3.0 / 3600, out_dir=second, config=cfg)
    assert report.n_made == 3 and not (second / ".defects-000001.part").exists()
    assert (first / "manifest.jsonl").read_text() == (second / "manifest.jsonl").read_text()
    for ex in read_manifest(first):
        other = second / Path(ex.audio).relative_to(first)
        assert np.array_equal(audio.load(ex.audio).samples, audio.load(other).samples)


def test_benchmark_tracks_are_held_out_by_default(music, monkeypatch):
    held = (music / "stereo.flac").resolve()
    monkeypatch.setattr(defect_clips, "_benchmark_files", lambda: {held})
    kept = clean_music([str(music)])
    assert [Path(ex.audio).name for ex in kept] == ["mono.flac"]
    both = clean_music([str(music)], include_benchmark=True)
    assert len(both) == 2


def test_mir1k_stems_and_song_manifests_are_clean_music(tmp_path):
    clip = tmp_path / "mir1k" / "amy_3_05"
    clip.mkdir(parents=True)
    audio.save(clip / "vocals.flac", tone(4.0, 16000, 1, 500.0))
    audio.save(clip / "accompaniment.flac", tone(4.0, 16000, 1, 200.0))
    songs = tmp_path / "songs"
    (songs / "song-000000").mkdir(parents=True)
    audio.save(songs / "song-000000" / "mixture.flac", tone(5.0, 22050, 1))
    from cantata.data.records import write_manifest
    write_manifest(songs / "manifest.jsonl", [Example(
        id="song-000000", audio=str(songs / "song-000000" / "mixture.flac"), duration_s=5.0,
        sample_rate=22050, group="song-000000", source="synth-song")])
    pool = clean_music([str(tmp_path / "mir1k"), str(songs)])
    assert {ex.source for ex in pool} == {"mir1k", "synth-song"}
    assert {defect_clips.track_of(ex) for ex in pool} == {"mir1k/amy_3", "song-000000"}
    cfg = DefectSetConfig(example_s=2.0, inject=replace(OPUS, p_clean=1.0))
    for index in range(6):
        ex = build_defect_example(index, seed=0, out_dir=tmp_path / "out", pool=pool, config=cfg)
        wav = audio.load(ex.audio)
        assert wav.n_channels == 1 and wav.sample_rate in (16000, 22050)
        if ex.source == "mir1k":  # the mix: the sum of the two stems, less its DC
            stems = [audio.load(clip / f"{s}.flac", offset_s=ex.meta["clip"]["offset_s"],
                                duration_s=2.0 + defect_clips.MARGIN_S)
                     for s in ("vocals", "accompaniment")]
            made = ex.meta["clip"]
            mix = defect_clips.prepare_clean(stems[0].samples + stems[1].samples,
                                             wav.sample_rate, gain=made["gain"],
                                             encoded=made["encoded"])
            expected = mix[:, :wav.n_samples]
            assert np.allclose(wav.samples, expected, atol=1e-5)


def test_missing_music_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="music folder not found"):
        clean_music([str(tmp_path / "nope")])
    monkeypatch.setattr(defect_clips, "_installed", _no_debian)
    with pytest.raises(ConfigError, match="--music DIR"):
        clean_music(["debian"])


def _no_debian(*_args):
    raise ConfigError("no instrumental music installed")


def test_cli_writes_the_set_and_lists_weak_label_files(music, tmp_path, capsys):
    (tmp_path / "mine.csv").write_text("path,types\nmusic/mono.flac,click;dropout\n")
    out = tmp_path / "out"
    argv = ["data", "synth", "defects", "--hours", str(6 / 3600), "--example-s", "3",
            "--music", str(music), "--jobs", "1", "--out", str(out), "--types", "click",
            "dropout", "--weak-labels", str(tmp_path / "mine.csv"), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["examples"] == 2 and summary["made"] == 2
    examples = list(read_manifest(out))
    assert [ex.id for ex in examples][-1] == "music/mono"
    assert weak_labels(examples[-1]) == ("click", "dropout") and not examples[-1].regions
    assert {t for ex in examples for t in weak_labels(ex)} <= {"click", "dropout"}
    assert main(argv) == 0 and json.loads(capsys.readouterr().out)["made"] == 0


@pytest.mark.parametrize(("flags", "message"), [
    (["--p-clean", "1.5"], "--p-clean must be within 0..1"),
    (["--max-defects", "0"], "--max-defects >= 1"),
    (["--example-s", "0"], "--example-s and --sample-rate must be > 0"),
])
def test_cli_rejects_bad_numbers(music, tmp_path, capsys, flags, message):
    assert main(["data", "synth", "defects", "--hours", "0.001", "--out", str(tmp_path / "o"),
                 "--music", str(music), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_gsm_without_ffmpeg_is_a_clear_error(music, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(defect_clips, "gsm_available", lambda: False)
    argv = ["data", "synth", "defects", "--hours", str(3 / 3600), "--example-s", "3",
            "--music", str(music), "--jobs", "1", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "--phone-codecs opus" in capsys.readouterr().err
    assert main([*argv, "--phone-codecs", "opus"]) == 0


def test_cli_rejects_unknown_types(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["data", "synth", "defects", "--hours", "0.001", "--out", str(tmp_path),
              "--types", "crackle"])
    assert "crackle" in capsys.readouterr().err


def test_end_to_end_with_worker_processes(music, tmp_path, capsys):
    """The documented command, default clip length, two worker processes."""
    out = tmp_path / "out"
    assert main(["data", "synth", "defects", "--hours", "0.005", "--music", str(music),
                 "--jobs", "2", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["examples"] == 2
    examples = list(read_manifest(out))
    assert len(examples) == 2 and all(ex.duration_s <= 10.0 for ex in examples)


def test_sample_rate_option_resamples_every_clip(music, tmp_path):
    synthesize_defects(hours=4 * 3.0 / 3600, out_dir=tmp_path / "out",
                       config=config(music, sample_rate=22050))
    for ex in read_manifest(tmp_path / "out"):
        assert ex.sample_rate == audio.info(ex.audio).sample_rate == 22050


def test_debian_means_the_whole_soundtracks_less_the_benchmark(music, monkeypatch):
    tracks = tuple(Example(id=f"instrumentals/{group}/{p.stem}", audio=str(p), duration_s=5.0,
                           sample_rate=16000, group=group, source="instrumentals")
                   for group, p in [("wesnoth", music / "mono.flac"),
                                    ("lmms", music / "stereo.flac")])
    monkeypatch.setattr(defect_clips, "_installed", lambda: tracks)
    assert [ex.group for ex in clean_music(["debian"], include_benchmark=True)] == ["wesnoth"]
    with pytest.raises(ConfigError, match="once the benchmark's tracks are held out"):
        clean_music(["debian"])  # the only whole track is one of the benchmark's 40
    kept = clean_music([str(music)])  # your folder: the benchmark's files are left out too
    assert [Path(ex.audio).name for ex in kept] == ["stereo.flac"]
