"""PocketSphinx's English forced alignment: chunks, word mapping, fallbacks, the method
option; and one real alignment of espeak-ng speech when both are installed."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from cantata import audio
from cantata.cli import main
from cantata.lyrics import api, sphinx
from cantata.lyrics.align import TimedLine, TimedWord
from cantata.lyrics.api import LyricsError, use_sphinx
from cantata.lyrics.sphinx import Chunk, SphinxAligner, chunks, fit, normalize, spell


def line(text: str, start: float, step: float = 0.5) -> TimedLine:
    words = tuple(TimedWord(w, start + k * step, start + (k + 1) * step - 0.1)
                  for k, w in enumerate(text.split()))
    return TimedLine(text, words[0].start, words[-1].end, words)


def test_spelling_and_normal_forms():
    assert normalize("Don’t,") == "don't" and normalize("(Hey!)") == "hey"
    assert spell("lah") == "L AA" and spell("noo") == "N UW" and spell("shoo") == "SH UW"
    assert spell("make") == "M AE K" and spell("happy") == "HH AE P IY"
    assert spell("café") is None and spell("42") is None


def test_chunks_follow_the_singing_regions_and_the_length_cap():
    lines = [line("a b", 1.0), line("c d", 2.2), line("e f", 10.0), line("g h", 11.2)]
    regions = [(0.8, 3.5), (9.5, 12.5)]
    got = chunks(lines, regions, 20.0)
    assert [(c.first, c.last) for c in got] == [(0, 1), (2, 3)]
    assert got[0].start == pytest.approx(0.3) and got[-1].end == pytest.approx(13.0)
    assert got[0].end == got[1].start == pytest.approx((3.5 + 9.5) / 2)  # between the regions
    capped = chunks(lines, [], 12.0, max_s=5.0)
    assert [(c.first, c.last) for c in capped] == [(0, 1), (2, 3)]
    assert capped[0].end == pytest.approx((2.2 + 0.9 + 10.0) / 2) and capped[-1].end == 12.0
    assert chunks([], regions, 20.0) == []


def test_unaligned_words_fit_between_their_aligned_neighbours():
    words = [TimedWord("a", 1.0, 1.4), TimedWord("b", 1.5, 1.9), TimedWord("c", 2.0, 2.4)]
    got = fit(words, [(1.2, 1.8), None, (1.85, 2.5)])
    assert [(w.start, w.end) for w in got] == [(1.2, 1.8), (1.8, 1.85), (1.85, 2.5)]
    assert [w.start for w in fit(words, [None, None, None])] == [1.0, 1.5, 2.0]


class FakeDecoder:
    """The few Decoder calls the aligner makes; ``seg`` answers with ``segments``."""

    def __init__(self, segments, known=("one", "two")):
        self.segments, self.known, self.added, self.text = segments, set(known), {}, None

    def lookup_word(self, word):
        return "X" if word in self.known or word in self.added else None

    def add_word(self, word, phones, update):
        self.added[word] = phones

    def set_align_text(self, text):
        self.text = text

    def start_utt(self):
        pass

    def process_raw(self, data, full_utt):
        pass

    def end_utt(self):
        pass

    def seg(self):
        return [SimpleNamespace(word=w, start_frame=a, end_frame=b) for w, a, b in self.segments]


def fake_aligner(decoder) -> SphinxAligner:
    aligner = SphinxAligner.__new__(SphinxAligner)
    aligner.decoder, aligner._spelled, aligner._lock = decoder, {}, threading.Lock()
    return aligner


def test_words_map_to_segments_with_fillers_variants_and_spellings():
    dec = FakeDecoder([("<s>", 0, 0), ("<sil>", 0, 9), ("one", 10, 29), ("two(2)", 30, 49),
                       ("[NOISE]", 50, 59), ("lah", 60, 79), ("</s>", 80, 80)])
    got = fake_aligner(dec)._align(np.zeros(8000, np.int16), ["One,", "two", "9", "Lah!"])
    assert dec.text == "one two lah" and dec.added == {"lah": "L AA"}
    assert got == [(0.1, 0.3), (0.3, 0.5), None, (0.6, 0.8)]


def test_a_chunk_the_decoder_cannot_align_keeps_the_agnostic_times(caplog):
    agnostic = [line("one two", 0.5), line("two one", 6.0)]
    dec = FakeDecoder([("one", 10, 29), ("two", 30, 49)])
    aligner = fake_aligner(dec)
    calls = []

    def align(pcm, words):  # the second chunk fails
        calls.append(words)
        if len(calls) == 2:
            raise RuntimeError("no alignment (0 of 2 words)")
        return [(0.1, 0.3), (0.3, 0.5)]

    aligner._align = align
    lines, warnings = aligner.refine(np.zeros(16000 * 8, np.float32), agnostic,
                                     [(0.4, 1.6), (5.9, 7.1)])
    assert calls == [["one", "two"], ["two", "one"]]
    assert lines[0].words[0] == TimedWord("one", 0.1, 0.3)  # the chunk starts at 0.0
    assert lines[1] == agnostic[1] and len(warnings) == 1 and "-7.6 s" in warnings[0]
    assert "agnostic times kept" in caplog.text


def test_the_method_option(monkeypatch):
    assert not use_sphinx("agnostic", "en") and not use_sphinx("auto", "de")
    with pytest.raises(LyricsError, match="unknown alignment method"):
        use_sphinx("whisper", "en")
    with pytest.raises(LyricsError, match="English lyrics only"):
        use_sphinx("sphinx", "de")
    monkeypatch.setattr(sphinx, "available", lambda: False)
    with pytest.raises(LyricsError, match=r"pip install 'cantata\[lyrics-en\]'"):
        use_sphinx("sphinx", "en")
    monkeypatch.setattr(api, "AUTO_SPHINX", True)
    assert not use_sphinx("auto", "en")  # not installed: agnostic
    monkeypatch.setattr(sphinx, "available", lambda: True)
    assert use_sphinx("auto", "en_US") and use_sphinx("sphinx", "en")


def test_the_command_refuses_sphinx_for_another_language(tmp_path, capsys):
    song = tmp_path / "song.wav"
    sf.write(song, np.zeros(8000, np.float32), 16000)
    (tmp_path / "song.txt").write_text("eins zwei\n", encoding="utf-8")
    code = main(["lyrics", "align", str(song), "--method", "sphinx", "--language", "de",
                 "--model", "debug"])
    assert code == 2 and "English lyrics only" in capsys.readouterr().err


@pytest.mark.skipif(not sphinx.available() or shutil.which("espeak-ng") is None,
                    reason="needs pocketsphinx and espeak-ng")
def test_real_alignment_of_espeak_speech(tmp_path):
    words, gaps = ["hello", "morning", "yellow", "window"], [0.6, 0.3, 0.8, 0.4]
    pieces, truth, at = [], [], 0.0
    for word, gap in zip(words, gaps, strict=True):
        wav = tmp_path / f"{word}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), word], check=True)
        y = audio.resample(audio.load(wav).to_mono(), sphinx.RATE).samples[0]
        y = y[np.flatnonzero(np.abs(y) > 0.01)[0]:]  # from the word's first sound
        pieces += [np.zeros(round(gap * sphinx.RATE), np.float32), y]
        truth.append(at + gap)
        at += gap + y.size / sphinx.RATE
    mono = np.concatenate([*pieces, np.zeros(sphinx.RATE // 2, np.float32)])
    mono += 1e-3 * np.random.default_rng(0).standard_normal(mono.size).astype(np.float32)
    even = line(" ".join(words), 0.5, step=(at - 0.5) / len(words))  # a poor first guess
    lines, warnings = sphinx.sphinx_aligner().refine(mono, [even], [(0.0, at)])
    starts = [w.start for w in lines[0].words]
    assert not warnings and np.abs(np.array(starts) - truth).max() < 0.12, (starts, truth)
    assert chunks([even], [(0.0, at)], at + 0.5) == [Chunk(0, 0, 0.0, round(at + 0.5, 3))]


@pytest.mark.skipif(not sphinx.available(), reason="needs pocketsphinx")
def test_the_command_with_method_sphinx(tmp_path, capsys, sung):
    song = tmp_path / "song.wav"
    sf.write(song, sung([0.5, 1.0, 1.5, 2.5, 3.0]), 16000)
    (tmp_path / "song.txt").write_text("one two three\nfour five\n", encoding="utf-8")
    code = main(["lyrics", "align", str(song), "--method", "sphinx", "--language", "en",
                 "--model", "debug", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and [len(ln["words"]) for ln in result["lines"]] == [3, 2]
