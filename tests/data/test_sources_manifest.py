"""Label manifests: CSV / TSV tables of regions, and JSONL delegation."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from cantata.data.records import Example, write_manifest
from cantata.data.sources import load_label_manifest
from cantata.errors import ConfigError
from cantata.testing import sine
from cantata.types import Segment

RATE = 8000


def write_audio(path: Path, duration_s: float = 0.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, sine(440, duration_s=duration_s, sample_rate=RATE).samples[0], RATE)
    return path


def test_csv_groups_rows_per_file(tmp_path):
    write_audio(tmp_path / "songs" / "a.wav")
    absolute = write_audio(tmp_path / "elsewhere" / "b.flac", duration_s=0.25)
    write_audio(tmp_path / "songs" / "c.wav")
    (tmp_path / "labels.csv").write_text(
        "path,start,end,label,group\n"
        "songs/a.wav,0.3,0.5,vocal,singer1\n"
        "songs/a.wav,0.0,0.2,vocal,singer1\n"
        f"{absolute},0.0,0.25,speech,\n"
        "songs/c.wav,,,,\n")
    examples = {ex.id: ex for ex in load_label_manifest(tmp_path / "labels.csv")}
    a, c = examples["songs/a"], examples["songs/c"]
    b = examples[absolute.with_suffix("").as_posix()]
    assert [(r.start_s, r.end_s) for r in a.regions] == [(0.0, 0.2), (0.3, 0.5)]
    assert a.group == "singer1" and b.group == "b" and a.source == "labels"
    assert c.regions == () and c.meta["labels"] == ["speech", "vocal"]
    assert b.duration_s == pytest.approx(0.25) and b.sample_rate == RATE
    assert a.audio == str(tmp_path / "songs" / "a.wav")


def test_tsv(tmp_path):
    write_audio(tmp_path / "a.wav")
    (tmp_path / "labels.tsv").write_text("path\tstart\tend\tlabel\na.wav\t0.1\t0.4\tvocal\n")
    [example] = load_label_manifest(tmp_path / "labels.tsv")
    assert example.regions == (Segment(0.1, 0.4, "vocal"),)


def test_jsonl_is_read_as_our_manifest(tmp_path):
    audio = write_audio(tmp_path / "a.wav")
    record = Example(id="x", audio=str(audio), regions=(Segment(0.0, 0.1, "vocal"),),
                     duration_s=0.5, sample_rate=RATE)
    write_manifest(tmp_path / "m.jsonl", [record])
    assert load_label_manifest(tmp_path / "m.jsonl") == [record]


@pytest.mark.parametrize("text, match", [
    ("path,start,label\na.wav,0,vocal\n", "end"),
    ("path,start,end,label\nmissing.wav,0,1,vocal\n", "not found"),
    ("path,start,end,label\na.wav,0.4,0.1,vocal\n", ":2: bad region"),
    ("path,start,end,label\na.wav,zero,0.1,vocal\n", "bad region"),
    ("path,start,end,label\na.wav,0,0.1,\n", "no label"),
    ("path,start,end,label\n", "no rows"),
])
def test_bad_tables(tmp_path, text, match):
    write_audio(tmp_path / "a.wav")
    (tmp_path / "labels.csv").write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_label_manifest(tmp_path / "labels.csv")


def test_missing_manifest(tmp_path):
    with pytest.raises(ConfigError, match="no such label manifest"):
        load_label_manifest(tmp_path / "labels.csv")
