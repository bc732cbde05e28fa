"""Lyrics text: lines, words, syllable counts in known and unknown languages."""

from __future__ import annotations

import logging

from cantata.lyrics.text import parse_lyrics, split_words, syllable_counter, vowel_groups


def test_lines_drop_lrc_tags_headers_section_markers_and_blank_lines():
    text = ("[ar: Someone]\n[00:12.00]Every night in my dreams\n\n[Chorus]\n"
            "<00:13.00>I see <00:14.50>you\n(Verse 2)\n   \n")
    lines = parse_lyrics(text, "en")
    assert [ln.text for ln in lines] == ["Every night in my dreams", "I see you"]
    assert [w.text for w in lines[1].words] == ["I", "see", "you"]


def test_words_of_unspaced_scripts_are_characters():
    assert split_words("你好世界。") == ["你", "好", "世", "界。"]
    assert split_words("hello, world!") == ["hello,", "world!"]
    assert split_words("愛してる love") == ["愛", "し", "て", "る", "love"]


def test_syllables_from_the_dictionary_or_the_vowel_groups():
    en = syllable_counter("en")
    assert [en(w) for w in ("beautiful", "singing", "night", "time", "little", "the")] == \
        [3, 2, 1, 1, 2, 1]
    de = syllable_counter("de")
    assert de("Sonnenuntergang") == 5 and de("Freiheit") == 2
    assert syllable_counter(None)("corazón") == 3
    assert syllable_counter("en")("1984") == 1  # no letters: one syllable, never zero


def test_other_scripts_count_too():
    assert vowel_groups("привет") == 2
    assert vowel_groups("안녕하세요") == 5
    assert vowel_groups("שלום") == 2  # no vowel letters: letters / 2.5


def test_an_unknown_language_warns_and_falls_back(caplog):
    with caplog.at_level(logging.WARNING):
        lines = parse_lyrics("banana split", "qq")
    assert "no hyphenation dictionary for language 'qq'" in caplog.text
    assert [w.syllables for w in lines[0].words] == [3, 1]


def test_empty_lyrics_have_no_lines():
    assert parse_lyrics("", "en") == [] and parse_lyrics("\n[Intro]\n[00:01.00]\n") == []
