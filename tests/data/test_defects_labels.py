"""The users' own weak defect labels: a ``path,types`` table."""

from __future__ import annotations

import numpy as np
import pytest

from cantata import audio
from cantata.data.labels import DEFECT_TYPES
from cantata.data.records import Example
from cantata.data.sources import load_weak_labels
from cantata.data.sources.defect_labels import parse_types, weak_labels
from cantata.errors import ConfigError
from cantata.types import Waveform


@pytest.fixture
def recordings(tmp_path):
    (tmp_path / "rec").mkdir()
    for name in ("a", "b", "c"):
        audio.save(tmp_path / "rec" / f"{name}.flac",
                   Waveform(np.zeros((2, 8000), np.float32), 8000))
    return tmp_path


def test_table_gives_examples_with_weak_labels_only(recordings):
    table = recordings / "mine.csv"
    table.write_text("path,types,group\n"
                     "rec/a.flac,click;dropout,album1\n"
                     f"{recordings / 'rec' / 'b.flac'},codec | clipping,\n"
                     "rec/c.flac,,\n")
    examples = load_weak_labels(table)
    assert [ex.id for ex in examples] == [(recordings / "rec" / "b").as_posix(), "rec/a",
                                          "rec/c"]
    by_id = {ex.id: ex for ex in examples}
    assert weak_labels(by_id["rec/a"]) == ("click", "dropout")
    assert weak_labels(examples[0]) == ("clipping", "codec")
    assert weak_labels(by_id["rec/c"]) == ()
    assert by_id["rec/a"].group == "album1" and by_id["rec/c"].group == "c"
    for ex in examples:
        assert not ex.regions and ex.source == "mine" and ex.meta["labels"] == list(DEFECT_TYPES)
        assert ex.duration_s == pytest.approx(1.0) and ex.sample_rate == 8000


def test_tab_separated_table(recordings):
    table = recordings / "mine.tsv"
    table.write_text("path\ttypes\nrec/a.flac\tnoise_burst|dc_offset|discontinuity\n")
    (example,) = load_weak_labels(table)
    assert weak_labels(example) == ("dc_offset", "discontinuity", "noise_burst")


@pytest.mark.parametrize(("text", "message"), [
    ("path,types\nrec/a.flac,click\nrec/b.flac,crackle;click\n",
     r"mine.csv:3: unknown defect type\(s\) 'crackle' \(known: click, dropout"),
    ("path,labels\nrec/a.flac,click\n", "mine.csv: header lacks column.s. types"),
    ("path,types\nrec/zz.flac,click\n", r"mine.csv:2: audio file .*zz.flac not found"),
    ("path,types\n,click\n", "mine.csv:2: empty path"),
    ("path,types\nrec/a.flac,click\nrec/a.flac,\n", r"mine.csv:3: .*a.flac is listed twice "
                                                    r"\(first on line 2\)"),
    ("path,types\n", "mine.csv: the weak-label table has no rows"),
])
def test_bad_tables_name_the_file_and_line(recordings, text, message):
    table = recordings / "mine.csv"
    table.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_weak_labels(table)


def test_undecodable_audio_and_missing_table(recordings):
    (recordings / "rec" / "bad.wav").write_bytes(b"not audio at all")
    table = recordings / "mine.csv"
    table.write_text("path,types\nrec/bad.wav,click\n")
    with pytest.raises(ConfigError, match="mine.csv:2: "):
        load_weak_labels(table)
    with pytest.raises(ConfigError, match="no such weak-label table"):
        load_weak_labels(recordings / "none.csv")


def test_parse_types_and_unlabelled_examples():
    assert parse_types(" click ; ;codec|click ", where="x") == ["click", "codec"]
    with pytest.raises(ConfigError, match="has no defect labels"):
        weak_labels(Example(id="e", audio=None))
