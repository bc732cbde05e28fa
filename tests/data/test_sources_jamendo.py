"""Jamendo loader: sing/nosing labels, splits, artist groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from cantata.data.sources import load_jamendo
from cantata.errors import ConfigError
from cantata.testing import noise, write_compressed


def write_song(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_compressed(path, noise(duration_s=1.0, sample_rate=16000))


def write_lab(root: Path, stem: str, text: str) -> None:
    (root / "labels").mkdir(exist_ok=True)
    (root / "labels" / f"{stem}.lab").write_text(text)


def test_regions_splits_and_groups(tmp_path):
    write_song(tmp_path / "audio" / "train" / "Some Band - First Song.mp3")
    write_song(tmp_path / "audio" / "test" / "03 - Say me Good Bye.mp3")
    write_song(tmp_path / "audio" / "test" / "unlabelled.mp3")
    write_lab(tmp_path, "Some Band - First Song", "0.0 0.3 nosing\n0.3 0.7 sing\n0.7 1.0 nosing\n")
    write_lab(tmp_path, "03 - Say me Good Bye", "0 0.5 sing\n0.5 1.0 nosing\n")
    examples = load_jamendo(tmp_path)
    assert [ex.id for ex in examples] == ["jamendo/03 - Say me Good Bye",
                                          "jamendo/Some Band - First Song"]
    assert [ex.group for ex in examples] == ["03 - Say me Good Bye", "Some Band"]
    assert [ex.meta["split"] for ex in examples] == ["test", "train"]
    assert all(ex.meta["labels"] == ["vocal"] for ex in examples)
    [region] = examples[1].regions
    assert (region.start_s, region.end_s, region.label) == (0.3, 0.7, "vocal")
    assert examples[1].duration_s == pytest.approx(1.0, abs=0.1)


def test_flat_layout_with_jamendo_lab_folder(tmp_path):
    write_song(tmp_path / "song.mp3")
    (tmp_path / "jamendo_lab").mkdir()
    (tmp_path / "jamendo_lab" / "song.lab").write_text("0 1 1\n")
    [example] = load_jamendo(tmp_path)
    assert example.meta["split"] is None and example.group == "song"
    assert [r.label for r in example.regions] == ["vocal"]


@pytest.mark.parametrize("case", ["no-labels", "no-match", "bad-line"])
def test_bad_layouts(tmp_path, case):
    write_song(tmp_path / "audio" / "a.mp3")
    if case == "no-match":
        write_lab(tmp_path, "b", "0 1 sing\n")
    if case == "bad-line":
        write_lab(tmp_path, "a", "0 1 singing\n")
    with pytest.raises(ConfigError, match="label|\\.lab|sing"):
        load_jamendo(tmp_path)
