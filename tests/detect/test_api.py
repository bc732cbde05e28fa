"""VoiceDetector: files and arrays, chunked inference, shipped-model lookup."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

import cantata
from cantata.detect import api
from cantata.detect.api import VoiceDetector
from cantata.errors import ModelLoadError
from cantata.testing import noise, sine
from cantata.types import Segment, Waveform


def test_detect_file_and_waveform_agree(tmp_path):
    detector = VoiceDetector.from_pretrained("debug")
    wav = noise(duration_s=3.0, sample_rate=22050, n_channels=2, seed=1)
    path = tmp_path / "x.wav"
    sf.write(str(path), wav.samples.T, 22050, subtype="FLOAT")
    from_file = detector.frame_probs(path)
    from_array = detector.frame_probs(wav)
    assert from_file.probs.shape == (1, 1 + 3 * 16000 // 320)
    assert from_file.duration_s == pytest.approx(3.0)
    np.testing.assert_allclose(from_file.probs, from_array.probs, atol=1e-4)
    assert all(isinstance(s, Segment) for s in detector.detect(path))


SEAM_TOLERANCE = 0.01  # probability units


# 5 s kept per window + 2 x 2 s of context: one window spans 9 s (144000 samples)
@pytest.mark.parametrize("n_samples", [320000, 144000, 144001, 144320, 224000, 96000])
def test_chunked_inference_matches_whole_file(monkeypatch, n_samples):
    """Long inputs run in overlapping windows; the seams must not show, at any length."""
    detector = VoiceDetector.from_pretrained("debug-multilabel")
    rng = np.random.default_rng(0)
    env = np.repeat(rng.random(40) > 0.5, 16000 // 2).astype(np.float32)  # 0.5 s on/off
    wav = Waveform((sine(440, duration_s=20.0, sample_rate=16000).samples * env
                    + noise(duration_s=20.0, sample_rate=16000, amplitude=0.01).samples)
                   [:, :n_samples], 16000)
    whole = detector.probs_of(wav.samples[0])
    monkeypatch.setattr(api, "CHUNK_S", 5.0)
    monkeypatch.setattr(api, "CONTEXT_S", 2.0)
    chunked = detector.frame_probs(wav).probs
    assert chunked.shape == whole.shape
    # The recurrent layer's state depends on where it started, so chunks see slightly
    # different states near their seams; with 2 s of context the effect stays small.
    assert np.abs(chunked - whole).max() < SEAM_TOLERANCE


def test_package_is_callable(tmp_path):
    path = tmp_path / "x.wav"
    sf.write(str(path), noise(duration_s=1.0).samples.T, 16000)
    assert isinstance(cantata.detect(path, model="debug"), list)


def test_unknown_checkpoint_is_a_model_error(tmp_path):
    with pytest.raises(ModelLoadError):
        VoiceDetector.from_pretrained(tmp_path / "missing.pt")


def test_calibration_maps_the_threshold_to_one_half():
    probs = np.array([[0.0, 0.2, 0.8, 1.0], [0.0, 0.5, 0.7, 1.0]])
    out = api.calibrate(probs, np.array([[0.8], [0.5]]))
    np.testing.assert_allclose(out, [[0.0, 0.125, 0.5, 1.0], [0.0, 0.5, 0.7, 1.0]])


def test_many_recordings_batched_together_equal_each_alone(monkeypatch):
    monkeypatch.setattr(api, "CHUNK_S", 2.0)  # several windows per longer clip
    monkeypatch.setattr(api, "CONTEXT_S", 0.5)
    detector = VoiceDetector.from_pretrained("debug-multilabel")
    clips = [noise(duration_s=s, sample_rate=16000, seed=i)
             for i, s in enumerate((1.0, 2.5, 2.5, 9.3, 0.05, 3.0))]
    together = detector.frame_probs_many(clips, batch_windows=4)
    for clip, batched in zip(clips, together, strict=True):
        alone = detector.frame_probs(clip)
        assert batched.probs.shape == alone.probs.shape
        assert batched.duration_s == pytest.approx(alone.duration_s)
        np.testing.assert_allclose(batched.probs, alone.probs, atol=1e-5)
    assert detector.detect_many(clips[:2]) == [detector.detect(c) for c in clips[:2]]


def test_progress_adds_up_to_the_duration(monkeypatch):
    monkeypatch.setattr(api, "CHUNK_S", 2.0)  # several windows
    monkeypatch.setattr(api, "CONTEXT_S", 0.5)
    seen: list[float] = []
    detector = VoiceDetector.from_pretrained("debug")
    clip = noise(duration_s=7.3, sample_rate=16000)
    assert detector.detect(clip, on_progress=seen.append) == detector.detect(clip)
    assert len(seen) == 4 and sum(seen) == pytest.approx(7.3)
