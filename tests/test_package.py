"""The package: cheap to import; its functions take arrays librosa-style and document
themselves."""

from __future__ import annotations

import inspect
import pydoc
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def test_import_is_lazy_and_quiet():
    code = ("import sys, cantata; heavy = [m for m in ('torch', 'av', 'soundfile', 'rich') "
            "if m in sys.modules]; print(heavy, cantata.__version__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.startswith("[] ")
    assert result.stderr == ""


def test_lazy_attributes_resolve():
    import cantata

    assert cantata.Waveform.__name__ == "Waveform"
    assert callable(cantata.load)


def stereo_pcm(seconds=2.0, rate=16000):
    """What ``soundfile.read(path, dtype="int16")`` gives: (time, channels) integers."""
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (int(seconds * rate), 2))
    return (noise * 32767).astype(np.int16), rate


def test_detect_takes_arrays_librosa_style():
    import cantata
    from cantata.detect import VoiceDetector

    y, sr = stereo_pcm()
    wav = cantata.Waveform(y.T.astype(np.float32) / 32768, sr)
    expected = [s.to_dict() for s in cantata.detect(wav, model="debug-multilabel")]
    assert expected
    for regions in (cantata.detect(y, sr=sr, model="debug-multilabel"),
                    cantata.detect(y, sr, model="debug-multilabel"),
                    cantata.detect(y, sample_rate=sr, model="debug-multilabel"),
                    VoiceDetector.from_pretrained("debug-multilabel").detect(y, sr=sr)):
        assert [s.to_dict() for s in regions] == expected


def test_separate_takes_arrays_librosa_style():
    import cantata
    from cantata.separate import Separator

    y, sr = stereo_pcm(seconds=1.0)
    for stems in (cantata.separate(y, sr=sr, model="debug"),
                  Separator.from_pretrained("debug").separate(y, sample_rate=sr)):
        assert "vocals" in stems and len(stems) == 2
        assert all(w.samples.shape == (2, len(y)) for w in stems.values())


def test_embed_takes_arrays_librosa_style():
    import cantata
    from cantata.embed import Embedder

    y, sr = stereo_pcm(seconds=3.0)
    embedder = Embedder.from_pretrained("debug")
    expected = embedder.embed_segments(cantata.Waveform(y, sr))
    for found in (cantata.embed(y, sr=sr, model="debug"), embedder.embed(y, sr=sr),
                  embedder.embed(y, sample_rate=sr)):
        np.testing.assert_allclose(found.vectors, expected.vectors, atol=1e-6)
    assert embedder.features_of(y, sr).shape == embedder.features_of(cantata.Waveform(y, sr)).shape


def test_an_array_without_its_rate_is_one_clear_error():
    import cantata
    from cantata.errors import ConfigError

    with pytest.raises(ConfigError, match="sample rate"):
        cantata.detect(np.zeros(16000), model="debug")


@pytest.mark.parametrize(("name", "verb"), [("detect", "detect"), ("separate", "separate"),
                                            ("embed", "embed"), ("tag", "tag")])
def test_verbs_are_callable_packages_with_the_functions_help(name, verb):
    import importlib

    import cantata

    package = getattr(cantata, name)
    function = getattr(importlib.import_module(f"cantata.{name}.api"), verb)
    assert callable(package) and package is importlib.import_module(f"cantata.{name}")
    text = pydoc.render_doc(package, renderer=pydoc.plaintext)
    assert f"{verb}(src, sr=None, *, sample_rate=None" in text
    assert function.__doc__.splitlines()[0] in text
    assert inspect.signature(package) == inspect.signature(function)


def test_subpackages_still_import():
    import cantata.detect.api as detect_api
    from cantata.detect import VoiceDetector
    from cantata.separate import Separator

    assert detect_api.VoiceDetector is VoiceDetector and Separator.__name__ == "Separator"


@pytest.mark.slow
def test_readme_python_api_snippet_runs(tmp_path):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("<!-- python-api-snippet -->\n```python\n", 1)[1].split("```", 1)[0]
    result = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "True ['vocals', 'accompaniment'] (2, 66150)" in result.stdout
