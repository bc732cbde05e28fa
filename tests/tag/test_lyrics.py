"""Lyrics at inference: reading them, the per-tag text heads, late fusion in the API and
``cantata tag --lyrics``, with a fake text encoder (the real one, wordllama, is optional)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import soundfile as sf

from cantata.cli import main
from cantata.errors import CantataError, ConfigError, ModelLoadError
from cantata.models.registry import save_checkpoint
from cantata.models.tagger import debug_tagger
from cantata.tag import Tagger, lyrics
from cantata.tag.lyrics import (
    LyricsHeads,
    embed_lyrics,
    fit_lyrics_heads,
    fuse,
    lyrics_beside,
    lyrics_for,
    text_inputs,
)
from cantata.tag.postprocess import roc_auc
from cantata.testing import noise

NIGHT = ("moon", "stars", "midnight", "owls", "dark")
DAY = ("market", "kitchen", "bus", "garden", "lunch")


class BagOfWords:
    """A fake text encoder: word counts over a fixed vocabulary, plus a constant."""

    words = (*NIGHT, *DAY)

    def __init__(self):
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        return np.array([[t.lower().split().count(w) for w in self.words] + [1.0]
                         for t in texts], np.float32)


def songs(n, seed=0):
    """n lyrics, the first half about the night; and whether each is."""
    rng = np.random.default_rng(seed)
    night = np.arange(n) < n // 2
    texts = [" ".join(rng.choice(NIGHT if is_night else DAY, 3)) + " we sang"
             for is_night in night]
    return texts, night


def test_lyrics_beside_the_audio(tmp_path):
    song = tmp_path / "song.mp3"
    assert lyrics_beside(song) is None
    (tmp_path / "song.txt").write_text("\ufeffunder the moon\n", encoding="utf-8")
    assert lyrics_beside(song) == "under the moon"
    assert lyrics_for(song, "given words ") == "given words"
    assert lyrics_for(song, "  ") == "under the moon"
    (tmp_path / "song.txt").write_text(" \n")
    assert lyrics_beside(song) is None
    (tmp_path / "song.txt").write_bytes(b"caf\xe9")
    with pytest.raises(CantataError, match=r"song\.txt: lyrics must be UTF-8"):
        lyrics_beside(song)


def test_fitted_heads_separate_the_topic_and_survive_the_checkpoint_meta():
    encoder = BagOfWords()
    texts, night = songs(40)
    heads = fit_lyrics_heads(embed_lyrics(texts, encoder), {"tone": night, "beat": ~night})
    test_texts, test_night = songs(30, seed=1)
    scores = heads.scores(embed_lyrics(test_texts, encoder))
    assert scores.shape == (30, 2)
    assert roc_auc(scores[:, 0], test_night) == 1.0 and roc_auc(scores[:, 1], ~test_night) == 1
    assert ((scores[:, 0] >= heads.thresholds[0]) == test_night).all()
    again = LyricsHeads.from_meta(json.loads(json.dumps(heads.to_meta())), ("tone", "beat"))
    assert np.allclose(again.scores(embed_lyrics(test_texts, encoder)), scores)
    assert again.tags == ("tone", "beat") and again.encoder == "wordllama"


def test_bad_heads_and_bad_fitting_data_are_refused():
    texts, night = songs(10)
    x = embed_lyrics(texts, BagOfWords())
    with pytest.raises(ConfigError, match="'tone' needs recordings with and without"):
        fit_lyrics_heads(x, {"tone": np.ones(10, bool)})
    with pytest.raises(ConfigError, match="has \\(9,\\) targets for 10"):
        fit_lyrics_heads(x, {"tone": night[:9]})
    meta = fit_lyrics_heads(x, {"tone": night}).to_meta()
    with pytest.raises(ConfigError, match="tag\\(s\\) the tagger lacks: tone"):
        LyricsHeads.from_meta(meta, ("beat",))
    with pytest.raises(ConfigError, match="shapes disagree"):
        LyricsHeads.from_meta({**meta, "bias": [0.0, 1.0]}, ("tone",))
    with pytest.raises(ConfigError, match="malformed"):
        LyricsHeads.from_meta({"tags": ["tone"]}, ("tone",))
    with pytest.raises(ConfigError, match="take 11-d text embeddings, got 3-d"):
        LyricsHeads.from_meta(meta, ("tone",)).scores(np.zeros(3))


def test_fuse_averages_scores_and_thresholds_of_the_headed_tags():
    heads = LyricsHeads(("beat",), np.zeros(2), np.ones(2), np.array([[2.0, 0.0]]),
                        np.array([0.0]), np.array([0.3]))
    scores, limits = fuse(("tone", "noise", "beat"), np.array([0.9, 0.2, 0.4]),
                          np.array([0.5, 0.6, 0.7]), heads, np.array([0.5, 9.0]))
    text = 1 / (1 + np.exp(-1.0))
    assert scores == pytest.approx([0.9, 0.2, (0.4 + text) / 2])
    assert limits == pytest.approx([0.5, 0.6, 0.5])


def test_text_inputs_give_a_zero_row_without_lyrics():
    rows, has = text_inputs(["moon moon", None, "  ", "bus"], BagOfWords(), dim=11)
    assert has.tolist() == [True, False, False, True] and rows.dtype == np.float32
    assert rows[0, 0] == 2 and rows[3, 7] == 1 and not rows[1:3].any()


@pytest.fixture
def lyrical_checkpoint(tmp_path):
    """The debug tagger with a lyrics head for ``beat`` (the night lyrics are beat)."""
    texts, night = songs(40)
    heads = fit_lyrics_heads(embed_lyrics(texts, BagOfWords()), {"beat": night})
    net = debug_tagger()
    return save_checkpoint(tmp_path / "lyrical.pt", net, name="tagger", config=net.config,
                           meta={"thresholds": {"beat": 0.5},
                                 "lyrics_heads": heads.to_meta()})


def test_tagger_fuses_lyrics_into_the_headed_tags(lyrical_checkpoint):
    encoder = BagOfWords()
    tagger = Tagger.from_pretrained(lyrical_checkpoint)
    tagger.encoder = encoder
    wav = noise(duration_s=2.0, sample_rate=16000, seed=4)
    alone = tagger.tag(wav)
    night = tagger.tag(wav, lyrics="the moon and the stars at midnight")
    day = tagger.tag(wav, lyrics="the market and the bus")
    text_night, text_day = tagger.lyrics_heads.scores(
        embed_lyrics(["the moon and the stars at midnight", "the market and the bus"],
                     encoder))[:, 0]
    assert text_night > 0.8 > 0.2 > text_day
    beat = 2
    assert night.scores[beat] == pytest.approx((alone.scores[beat] + text_night) / 2)
    assert day.scores[beat] == pytest.approx((alone.scores[beat] + text_day) / 2)
    assert night.scores[:beat] == pytest.approx(alone.scores[:beat])  # no head: audio alone
    assert night.thresholds[beat] == pytest.approx((0.5 + tagger.lyrics_heads.thresholds[0])
                                                   / 2)
    assert np.array_equal(tagger.tag(wav, lyrics=" \n").scores, alone.scores)
    assert encoder.calls == 3  # blank lyrics embed nothing
    with pytest.raises(ConfigError, match="has no lyrics heads"):
        Tagger.from_pretrained("debug").tag(wav, lyrics="moon")


def test_a_checkpoint_with_heads_for_other_tags_is_refused(tmp_path):
    texts, night = songs(10)
    heads = fit_lyrics_heads(embed_lyrics(texts, BagOfWords()), {"jazz": night})
    net = debug_tagger()
    path = save_checkpoint(tmp_path / "t.pt", net, name="tagger", config=net.config,
                           meta={"lyrics_heads": heads.to_meta()})
    with pytest.raises(ModelLoadError, match="t.pt: lyrics heads for tag\\(s\\) the tagger "
                                             "lacks: jazz"):
        Tagger.from_pretrained(path)


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cantata_tag_lyrics_reads_the_txt_beside_each_input(tmp_path, lyrical_checkpoint,
                                                            capsys, monkeypatch):
    monkeypatch.setattr(lyrics, "_ENCODER", BagOfWords())
    songs_dir = tmp_path / "songs"
    songs_dir.mkdir()
    for name in ("sung", "instrumental"):
        sf.write(str(songs_dir / f"{name}.wav"),
                 noise(duration_s=1.5, sample_rate=16000, seed=5).samples.T, 16000)
    (songs_dir / "sung.txt").write_text("moon stars midnight owls dark\n")

    def beat(*extra):
        code, out, _ = cli(capsys, "tag", songs_dir, "--model", lyrical_checkpoint, "--json",
                           *extra)
        assert code == 0
        return {r["file"].rsplit("/", 1)[1]: next(t for t in r["tags"] if t["tag"] == "beat")
                for r in json.loads(out)}

    alone, fused = beat(), beat("--lyrics")
    assert alone["sung.wav"] == alone["instrumental.wav"] == fused["instrumental.wav"]
    assert fused["sung.wav"]["score"] > alone["sung.wav"]["score"]
    assert fused["sung.wav"]["present"]

    (songs_dir / "instrumental.txt").write_bytes(b"\xff\xfe")
    code, _, err = cli(capsys, "tag", songs_dir, "--model", lyrical_checkpoint, "--lyrics")
    assert code == 2 and "instrumental.txt: lyrics must be UTF-8" in err
    code, _, err = cli(capsys, "tag", songs_dir, "--model", "debug", "--lyrics")
    assert code == 2 and "--lyrics: the tagger 'debug' has no lyrics heads" in err


def test_missing_wordllama_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(lyrics, "_ENCODER", None)
    monkeypatch.setitem(sys.modules, "wordllama", None)
    with pytest.raises(CantataError, match=r"pip install 'cantata\[lyrics\]'"):
        embed_lyrics(["moon"])


def test_wordllama_embeds_offline(monkeypatch):
    pytest.importorskip("wordllama")
    monkeypatch.setattr(lyrics, "_ENCODER", None)
    vectors = embed_lyrics(["we walked under the moon", "we painted the kitchen door"])
    assert vectors.shape == (2, lyrics.TEXT_DIM) and np.isfinite(vectors).all()
