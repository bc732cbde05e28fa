"""The defect detection API: loading, streaming over long files, events and verdict."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from cantata.cli import main
from cantata.defects import DEFECT_TYPES, DefectDetector, rules
from cantata.defects import api as defects_api
from cantata.defects.decision import Decision
from cantata.defects.postprocess import FusionConfig
from cantata.errors import ConfigError, ModelLoadError
from cantata.models.defect_detector import debug_defect_detector
from cantata.models.registry import save_checkpoint
from cantata.models.separator import debug_separator
from cantata.types import Waveform

RATE = 16000


def _noise(seconds: float, rate: int = RATE) -> np.ndarray:
    return (0.1 * np.random.default_rng(0).standard_normal(round(seconds * rate))).astype(
        np.float32)


def test_the_shipped_model_loads_with_its_decisions():
    shipped = DefectDetector.from_pretrained()
    assert shipped.name == "defects" and shipped.types == DEFECT_TYPES
    assert {d.source for d in shipped.decisions} <= {"model", "rules", "confirmed", "verified"}
    assert set(shipped.rule_types) <= set(rules.RULES)
    assert "noise_burst" in shipped.rule_types  # bursts and hum: the model hears no hum
    # clicks and jumps come from its candidate verifier, which the rules no longer find
    assert shipped.verify and shipped.model.verifier is not None
    assert not {"click", "discontinuity"} & set(shipped.rule_types)
    detector = DefectDetector.from_pretrained("debug")
    assert detector.name == "debug" and detector.types == DEFECT_TYPES
    assert detector.sample_rate == RATE and detector.hop_s == pytest.approx(0.01)


def test_report_json_shape():
    report = DefectDetector.from_pretrained("debug").detect(_noise(3.0), sr=RATE)
    out = report.to_dict("x.wav")
    assert set(out) == {"file", "model", "duration_s", "events", "verdict"}
    assert out["file"] == "x.wav" and out["model"] == "debug" and out["duration_s"] == 3.0
    assert set(out["verdict"]) == {"defective", "types", "score"}
    assert list(out["verdict"]["types"]) == list(DEFECT_TYPES)
    assert out["verdict"]["defective"] == bool(out["events"])
    for event in out["events"]:
        assert set(event) == {"type", "start", "end", "confidence"}
        assert 0 <= event["start"] < event["end"] <= 3.0


def test_a_long_file_streams_in_windows_and_matches_the_array(tmp_path, monkeypatch):
    monkeypatch.setattr(defects_api, "CHUNK_S", 2.0)
    monkeypatch.setattr(defects_api, "CONTEXT_S", 0.5)
    monkeypatch.setattr(defects_api, "DECODE_BLOCK_S", 1.5)
    y = _noise(9.3)
    sf.write(tmp_path / "long.wav", y, RATE, subtype="FLOAT")
    detector = DefectDetector.from_pretrained("debug")
    seconds = []
    from_file = detector.frame_probs(tmp_path / "long.wav", on_progress=seconds.append)
    from_array = detector.frame_probs(y, sr=RATE)
    assert from_file.probs.shape == (7, 1 + len(y) // 160)
    np.testing.assert_allclose(from_file.probs, from_array.probs, atol=1e-5)
    assert seconds == pytest.approx([2.0, 2.0, 2.0, 2.0, 1.3])  # one window at a time


def test_input_is_resampled_and_mixed_to_mono():
    detector = DefectDetector.from_pretrained("debug")
    stereo = Waveform(np.stack([_noise(2.0, 44100), _noise(2.0, 44100)]), 44100)
    assert detector.frame_probs(stereo).probs.shape == (7, 201)


def test_types_select_rows_of_the_report():
    # every frame an event; clipping and jumps from their rules, which find none (a click
    # inside a clipping event, or at a jump, is resolved away whether asked for or not)
    detector = DefectDetector(debug_defect_detector(), name="debug",
                              decisions={"clipping": Decision("rules"),
                                         "discontinuity": Decision("rules")},
                              fusion=FusionConfig(on=0.0, off=0.0))
    report = detector.detect(_noise(1.0), sr=RATE, types=["dropout", "click"])
    assert list(report.verdict.types) == ["dropout", "click"]
    assert {e.type for e in report.events} == {"dropout", "click"}
    model_clipping = DefectDetector(debug_defect_detector(), fusion=FusionConfig(on=0.0, off=0.0))
    assert not model_clipping.detect(_noise(1.0), sr=RATE, types=["click"]).events
    with pytest.raises(ConfigError, match="unknown defect type.*hiss"):
        detector.detect(_noise(1.0), sr=RATE, types=["hiss"])


def test_a_checkpoint_brings_its_calibrated_thresholds(tmp_path):
    model = debug_defect_detector()
    metrics = {f"threshold/{t}": 0.5 for t in DEFECT_TYPES} | {"threshold/click": 0.9}
    path = save_checkpoint(tmp_path / "d.pt", model, name="defect-detector",
                           config=model.config, meta={"training": {"metrics": metrics}})
    detector = DefectDetector.from_pretrained(path)
    assert detector.thresholds[0] == 0.9 and detector.thresholds[1] == 0.5
    raw = DefectDetector(model)  # uncalibrated: every threshold 0.5
    y = _noise(1.0)
    probs, uncalibrated = detector.frame_probs(y, sr=RATE).probs, raw.frame_probs(y, sr=RATE)
    np.testing.assert_allclose(probs[1:], uncalibrated.probs[1:], atol=1e-6)
    assert np.all(probs[0] <= uncalibrated.probs[0] + 1e-6)


def test_unknown_names_and_foreign_checkpoints_are_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="available: defects, debug"):
        DefectDetector.from_pretrained("clicky")
    path = save_checkpoint(tmp_path / "s.pt", debug_separator(), name="separator",
                           config=debug_separator().config, meta={})
    with pytest.raises(ModelLoadError, match="not a defect detector"):
        DefectDetector.from_pretrained(path)
    with pytest.raises(ConfigError, match="unknown defect type.*hiss"):
        DefectDetector(debug_defect_detector(), decisions={"hiss": Decision()})
    with pytest.raises(ConfigError, match="threshold"):
        Decision("model", threshold=1.0)


def test_a_checkpoint_exports_to_onnx_with_parity(tmp_path, capsys):
    model = debug_defect_detector()
    metrics = {f"threshold/{t}": 0.5 for t in DEFECT_TYPES} | {"threshold/click": 0.8}
    path = save_checkpoint(tmp_path / "d.pt", model, name="defect-detector",
                           config=model.config, meta={"training": {"metrics": metrics}})
    out = tmp_path / "d.onnx"
    assert main(["export", "onnx", str(path), str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_abs_diff"] < 1e-4
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["types"] == list(DEFECT_TYPES) and sidecar["thresholds"][0] == 0.8
    assert sidecar["inputs"][0]["shape"] == ["batch", 32 + model.config.n_raw, "frames"]
