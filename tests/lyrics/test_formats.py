"""JSON, LRC, enhanced LRC and SRT: their exact shapes."""

from __future__ import annotations

import json

from cantata.lyrics.align import TimedLine, TimedWord
from cantata.lyrics.api import LyricsAlignment
from cantata.lyrics.formats import lrc_time, render, srt_time

RESULT = LyricsAlignment(
    [TimedLine("Hello world", 1.5, 2.75, (TimedWord("Hello", 1.5, 2.0),
                                          TimedWord("world", 2.1, 2.75))),
     TimedLine("Bye", 61.239, 62.0, (TimedWord("Bye", 61.239, 62.0),))],
    language="en", file="song.mp3").to_dict()


def test_json_is_the_issues_shape():
    assert json.loads(render("json", RESULT)) == {
        "file": "song.mp3", "language": "en", "lines": [
            {"text": "Hello world", "start": 1.5, "end": 2.75,
             "words": [{"text": "Hello", "start": 1.5, "end": 2.0},
                       {"text": "world", "start": 2.1, "end": 2.75}]},
            {"text": "Bye", "start": 61.239, "end": 62.0,
             "words": [{"text": "Bye", "start": 61.239, "end": 62.0}]}]}


def test_lrc_lines_and_enhanced_words():
    assert render("lrc", RESULT) == "[00:01.50]Hello world\n[01:01.24]Bye\n"
    assert render("lrc", RESULT, words=True) == (
        "[00:01.50]<00:01.50>Hello <00:02.10>world <00:02.75>\n"
        "[01:01.24]<01:01.24>Bye <01:02.00>\n")


def test_srt_one_cue_per_line():
    assert render("srt", RESULT) == ("1\n00:00:01,500 --> 00:00:02,750\nHello world\n\n"
                                     "2\n00:01:01,239 --> 00:01:02,000\nBye\n\n")


def test_times():
    assert lrc_time(0) == "00:00.00" and lrc_time(3599.996) == "60:00.00"
    assert srt_time(3725.5) == "01:02:05,500"
