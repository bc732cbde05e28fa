"""Instrumental folders: Debian defaults, vocal exclusions, explicit roots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cantata.data.sources import (
    INSTRUMENTAL_PACKAGES,
    instrumentals,
    load_instrumentals,
    read_stems,
    split_benchmark,
)
from cantata.errors import ConfigError
from cantata.testing import sine

RATE = 8000


def write_audio(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, sine(220, duration_s=0.2, sample_rate=RATE).samples[0], RATE)


def test_default_folders_with_exclusions(tmp_path, monkeypatch):
    drascula = tmp_path / "scummvm" / "drascula" / "audio"
    sonic_pi = tmp_path / "sonic-pi" / "samples"
    for name in ("track1.ogg", "track2.ogg", "track29.ogg", "track31.ogg", "track3.ogg"):
        write_audio(drascula / name)
    for name in ("drum_heavy_kick.flac", "ambi_choir.flac", "bass_voxy_c.flac"):
        write_audio(sonic_pi / name)
    monkeypatch.setattr(instrumentals, "INSTRUMENTAL_FOLDERS", {
        "drascula": drascula, "sonic-pi": sonic_pi, "wesnoth": tmp_path / "not-installed"})
    examples = load_instrumentals()
    assert [ex.id for ex in examples] == ["instrumentals/drascula/track1",
                                          "instrumentals/drascula/track3",
                                          "instrumentals/sonic-pi/drum_heavy_kick"]
    assert [ex.group for ex in examples] == ["drascula", "drascula", "sonic-pi"]
    assert all(ex.meta["vocal_free"] and ex.source == "instrumentals" for ex in examples)


def test_vocals_of_an_instrumental_are_silence(tmp_path):
    write_audio(tmp_path / "mine" / "loop.wav")
    [example] = load_instrumentals([tmp_path / "mine"])
    assert example.group == "mine"
    stems = read_stems(example)
    assert np.abs(stems["accompaniment"].samples).max() > 0.4
    assert stems["vocals"].samples.shape == stems["accompaniment"].samples.shape
    assert not stems["vocals"].samples.any()


def test_nothing_installed_names_the_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(instrumentals, "INSTRUMENTAL_FOLDERS", {"x": tmp_path / "absent"})
    with pytest.raises(ConfigError, match="apt-get install") as err:
        load_instrumentals()
    assert all(package in str(err.value) for package in INSTRUMENTAL_PACKAGES)


def test_bad_roots(tmp_path):
    with pytest.raises(ConfigError, match="nowhere"):
        load_instrumentals([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no instrumental audio"):
        load_instrumentals([tmp_path / "empty"])


def test_setup_installs_exactly_the_packages_the_loader_reads():
    from pathlib import Path

    from cantata.data.sources.instrumentals import INSTRUMENTAL_PACKAGES

    listed = Path(__file__).parents[2] / "scripts" / "apt" / "music.txt"
    packages = [p for p in listed.read_text().splitlines() if p and not p.startswith("#")]
    assert sorted(packages) == sorted(INSTRUMENTAL_PACKAGES)


def test_benchmark_split_holds_out_the_longest_whole_tracks(tmp_path, monkeypatch):
    game, pack = tmp_path / "game", tmp_path / "pack"
    for i, seconds in enumerate([0.3, 0.9, 0.5, 0.7]):
        game.mkdir(exist_ok=True)
        sf.write(game / f"t{i}.flac", np.zeros(int(seconds * RATE)), RATE)
    write_audio(pack / "loop.flac")
    monkeypatch.setattr(instrumentals, "SAMPLE_PACKS", ("pack",))
    train, test = split_benchmark(load_instrumentals([game, pack]), 2)
    assert [ex.id for ex in test] == ["instrumentals/game/t1", "instrumentals/game/t3"]
    assert sorted(ex.id for ex in train) == ["instrumentals/game/t0", "instrumentals/game/t2",
                                             "instrumentals/pack/loop"]


def test_training_instrumentals_never_include_benchmark_tracks(tmp_path, monkeypatch):
    from cantata.train import recipes

    game = tmp_path / "wesnoth"
    game.mkdir()
    for i, seconds in enumerate([0.3, 0.9, 0.5]):
        sf.write(game / f"t{i}.flac", np.zeros(int(seconds * RATE)), RATE)
    monkeypatch.setattr(instrumentals, "INSTRUMENTAL_FOLDERS", {"wesnoth": game})
    monkeypatch.setattr(recipes, "split_benchmark",
                        lambda examples: split_benchmark(examples, 1))
    for roots in (["debian"], [game]):
        kept = recipes.training_instrumentals(roots)
        assert sorted(Path(ex.audio).name for ex in kept) == ["t0.flac", "t2.flac"]


def test_training_instrumentals_from_a_folder_without_debian_soundtracks(tmp_path, monkeypatch):
    from cantata.train import recipes

    mine = tmp_path / "mine"
    mine.mkdir()
    sf.write(mine / "a.flac", np.zeros(RATE), RATE)
    monkeypatch.setattr(instrumentals, "INSTRUMENTAL_FOLDERS", {"wesnoth": tmp_path / "none"})
    assert [Path(ex.audio).name for ex in recipes.training_instrumentals([mine])] == ["a.flac"]
    with pytest.raises(ConfigError):
        recipes.training_instrumentals(["debian"])
