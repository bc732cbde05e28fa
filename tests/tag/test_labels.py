"""Labels files: CSV, JSONL, MagnaTagATune and MTG-Jamendo, and their errors."""

from __future__ import annotations

import json

import pytest

from cantata.errors import ConfigError
from cantata.tag.labels import read_labels


@pytest.fixture
def audio(tmp_path):
    """Empty stand-ins for audio files (the reader checks that they exist)."""
    for name in ("a.wav", "b.wav", "sub/c.mp3"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    return tmp_path


def test_csv_with_artists(audio):
    (audio / "labels.csv").write_text("path,tags,artist\na.wav,rock;guitar,x\n"
                                      "b.wav, rock ,y\nsub/c.mp3,piano,x\n")
    found = read_labels(audio / "labels.csv")
    assert found.vocabulary == ("rock", "guitar", "piano")  # most frequent first
    assert [sorted(i.tags) for i in found.items] == [["guitar", "rock"], ["rock"], ["piano"]]
    assert [i.group for i in found.items] == ["x", "y", "x"]
    assert found.items[2].audio == str(audio / "sub/c.mp3") and found.items[2].line == 4
    assert found.counts() == {"rock": 2, "guitar": 1, "piano": 1}
    chosen = read_labels(audio / "labels.csv", tags=["piano", "rock"])
    assert chosen.vocabulary == ("piano", "rock") and chosen.items[0].tags == {"rock"}


def test_jsonl_with_lists_and_an_audio_root(audio, tmp_path_factory):
    labels = tmp_path_factory.mktemp("elsewhere") / "labels.jsonl"
    labels.write_text(json.dumps({"path": "a.wav", "tags": ["a", "b"], "album": "q"}) + "\n\n"
                      + json.dumps({"path": "b.wav", "tags": "b"}) + "\n")
    found = read_labels(labels, audio_root=audio)
    assert found.vocabulary == ("b", "a") and found.items[0].group == "q"
    assert found.items[1].group == str(audio / "b.wav")  # no artist or album: the file


def test_mtat_annotations(audio):
    header = "\t".join(['"clip_id"', '"no voice"', '"rock"', '"piano"', '"mp3_path"'])
    rows = ["\t".join(['"1"', '"1"', '"0"', '"1"', '"a.wav"']),
            "\t".join(['"2"', '"0"', '"0"', '"0"', '"b.wav"']),  # no tag: all negatives
            "\t".join(['"3"', '"0"', '"1"', '"0"', '""'])]  # no audio: skipped
    (audio / "annotations_final.csv").write_text("\n".join([header, *rows]) + "\n")
    found = read_labels(audio / "annotations_final.csv", tags=["no voice", "piano"])
    assert found.vocabulary == ("no voice", "piano") and len(found.items) == 2
    assert found.items[0].tags == {"no voice", "piano"} and not found.items[1].tags
    with pytest.raises(ConfigError, match=r"annotations_final.csv:1: no tag column 'guitar'"):
        read_labels(audio / "annotations_final.csv", tags=["guitar"])


def test_mtg_jamendo_tsv(audio):
    (audio / "autotagging.tsv").write_text(
        "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n"
        "track_1\tartist_7\talbum_1\ta.wav\t212.7\tgenre---rock\tmood/theme---happy\n"
        "track_2\tartist_8\talbum_2\tb.wav\t100.0\tgenre---rock\n")
    found = read_labels(audio / "autotagging.tsv")
    assert found.vocabulary == ("genre---rock", "mood/theme---happy")
    assert [i.group for i in found.items] == ["artist_7", "artist_8"]


@pytest.mark.parametrize(("text", "problem"), [
    ("path,tags\na.wav,rock\nmissing.wav,rock\n",
     r"labels.csv:3: audio file .*missing.wav not found"),
    ("path,tags\na.wav,rock\nb.wav,\n", r"labels.csv:3: empty tag set"),
    ("file,tags\na.wav,rock\n", r"labels.csv:1: no column path"),
    ("path,tags\n", r"no labelled recordings"),
])
def test_errors_name_the_line(audio, text, problem):
    (audio / "labels.csv").write_text(text)
    with pytest.raises(ConfigError, match=problem):
        read_labels(audio / "labels.csv")


def test_a_chosen_tag_nobody_has(audio):
    (audio / "labels.csv").write_text("path,tags\na.wav,rock\n")
    with pytest.raises(ConfigError, match="no recording has the tag.*jazz"):
        read_labels(audio / "labels.csv", tags=["jazz"])
    with pytest.raises(ConfigError, match="unknown labels format"):
        read_labels(audio / "labels.csv", format="xml")
