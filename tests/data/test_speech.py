"""espeak-ng speech: speak() and random_speech(), and the texts kept in the repository."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cantata.data.synth import speech
from cantata.errors import CantataError, ConfigError

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng is not installed (Debian package espeak-ng)")


def test_speak_gives_trimmed_mono_audio_at_the_asked_rate():
    wav = speech.speak("Hello, this is a test.", sample_rate=16000)
    assert wav.sample_rate == 16000 and wav.n_channels == 1 and wav.samples.dtype == np.float32
    assert 0.8 < wav.duration_s < 4.0
    x = np.abs(wav.samples[0])
    assert 0.05 < x.max() <= 1.0
    loud = np.flatnonzero(x > 0.01 * x.max())
    assert loud[0] < 0.05 * 16000 and wav.n_samples - loud[-1] < 0.05 * 16000  # silence trimmed


def test_duration_grows_with_text_length():
    short = speech.speak("One sentence.")
    long = speech.speak("One sentence. And then a second, rather longer sentence follows it.")
    assert long.duration_s > 2 * short.duration_s


def test_voices_variants_and_pitches_differ():
    text = "The same words in different voices."
    base = speech.speak(text, voice="en-us")
    others = [speech.speak(text, voice="en-us+f3"), speech.speak(text, voice="en-gb"),
              speech.speak(text, voice="en-us", pitch=85)]
    for other in others:
        n = min(base.n_samples, other.n_samples)
        assert other.n_samples != base.n_samples or not np.allclose(
            base.samples[0, :n], other.samples[0, :n], atol=1e-3)


@pytest.mark.parametrize("voice", ["xx-nonexistent", "en-us+no-such-variant"])
def test_unknown_voice_or_variant_is_an_error(voice):
    with pytest.raises(CantataError, match="voice"):
        speech.speak("hello", voice=voice)


def test_bad_numbers_and_empty_text_are_errors():
    with pytest.raises(ConfigError, match="speed_wpm"):
        speech.speak("hello", speed_wpm=20)
    with pytest.raises(ConfigError, match="pitch"):
        speech.speak("hello", pitch=120)
    with pytest.raises(CantataError, match="empty"):
        speech.speak("   ")


def test_missing_espeak_says_how_to_install(monkeypatch):
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    with pytest.raises(CantataError, match="install the Debian package espeak-ng"):
        speech.speak("hello")


def test_texts_are_varied_and_every_language_is_spoken():
    languages = speech.available_languages()
    assert len(languages) >= 8 and "en" in languages
    total = 0
    for language in languages:
        lines = speech.load_texts(language)
        assert len(lines) >= 25 and len(set(lines)) == len(lines)
        total += len(lines)
        for accent in speech.ACCENTS.get(language, (language,))[:1]:
            assert speech.speak(lines[0], voice=accent).duration_s > 0.5
    assert total >= 250


def test_random_speech_is_deterministic_per_seed():
    a, meta_a = speech.random_speech(np.random.default_rng(7), sample_rate=16000)
    b, meta_b = speech.random_speech(np.random.default_rng(7), sample_rate=16000)
    assert meta_a == meta_b and np.array_equal(a.samples, b.samples)
    c, meta_c = speech.random_speech(np.random.default_rng(8), sample_rate=16000)
    assert meta_c != meta_a


def test_random_speech_metadata_and_limits():
    for seed in range(4):
        wav, meta = speech.random_speech(np.random.default_rng(seed), sample_rate=22050,
                                         max_duration_s=6.0)
        assert wav.sample_rate == 22050 and wav.n_channels == 1 and wav.duration_s <= 6.0
        assert json.loads(json.dumps(meta)) == meta
        assert meta["language"] in speech.available_languages()
        assert meta["text"] == " ".join(meta["sentences"])
        assert len(meta["sentences_s"]) == len(meta["sentences"]) >= 1
        assert meta["sentences_s"][-1][1] <= wav.duration_s + 1e-3


def test_random_speech_cuts_a_too_long_sentence():
    wav, meta = speech.random_speech(np.random.default_rng(3), sample_rate=16000,
                                     max_duration_s=0.5)
    assert wav.duration_s <= 0.5 and meta["truncated"] and len(meta["sentences"]) == 1
