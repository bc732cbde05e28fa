"""The defects analyzer: its spec, what it stores (regions + summary), and a scan by default."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from cantata.analyzers import TrackAudio, build, resolve
from cantata.catalog import Catalog
from cantata.cli import main
from cantata.data.labels import DEFECT_TYPES
from cantata.defects import DefectDetector
from cantata.errors import ModelLoadError
from cantata.scan import scan
from cantata.testing import noise


def test_resolve_names_the_model_without_loading_it():
    (spec,) = resolve("defects=debug")
    assert (spec.name, spec.model, spec.model_version) == ("defects", "debug", "debug")
    with pytest.raises(ModelLoadError, match="defects: unknown model"):
        resolve("defects=/no/such.pt")


def test_the_shipped_model_is_the_default():
    spec, model = resolve("defects")[0], DefectDetector.from_pretrained()
    assert model.name == "defects" and "defects" in str(spec)
    with pytest.raises(ModelLoadError, match="available: defects, debug"):
        resolve("defects=clicky")


def test_results_hold_events_as_regions_and_the_verdict_as_summary(tmp_path):
    wav = noise(duration_s=3.0, sample_rate=22050, n_channels=2, seed=1)
    path = tmp_path / "song.wav"
    sf.write(str(path), wav.samples.T, 22050)
    analyzer = build(resolve("defects=debug")[0])
    from_path, from_wav = analyzer.analyze([TrackAudio(str(path), "h", None),
                                            TrackAudio(str(path), "h", wav)])
    report = analyzer.detector.detect(str(path))
    assert from_path.summary == {
        "defective": report.verdict.defective, "score": round(report.verdict.score, 4),
        "types": report.verdict.types, "events": len(report.events)}
    assert set(from_path.summary["types"]) == set(DEFECT_TYPES)
    assert from_path.summary["events"] == len(from_path.regions) > 0  # the debug model fires
    assert [(r.label, r.start_s, r.end_s) for r in from_path.regions] == \
        [(e.type, e.start_s, e.end_s) for e in report.events]
    assert all(r.label in DEFECT_TYPES and 0 <= r.confidence <= 1 for r in from_path.regions)
    assert from_wav.summary["types"] == from_path.summary["types"]
    assert from_path.model_version == "debug" and from_path.analyzer == "defects"


def test_a_scan_stores_every_tracks_defects(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    sf.write(str(lib / "a.wav"), noise(duration_s=2.0, seed=2).samples.T, 16000)
    with Catalog(tmp_path / "c.db") as catalog:
        summary = scan(lib, catalog, resolve("defects=debug"), backend="inline")
        assert summary.analyzed == 1
        (track,) = catalog.tracks(with_results=True)
    stored = track.results["defects"]
    assert set(stored.summary) == {"defective", "score", "types", "events"}
    assert len(stored.regions) == stored.summary["events"]


def test_scan_runs_defects_by_default_and_with_a_named_model(tmp_path, capsys):
    from cantata.cli import parse

    assert "defects" in parse(["scan", str(tmp_path)]).analyzers.split(",")
    lib = tmp_path / "lib"
    lib.mkdir()
    sf.write(str(lib / "a.wav"), noise(duration_s=1.0, seed=3).samples.T, 16000)
    db = tmp_path / "c.db"
    assert main(["scan", str(lib), "--db", str(db), "--backend", "inline", "-q",
                 "--analyzers", "defects=debug"]) == 0
    capsys.readouterr()
    assert main(["catalog", "show", str(lib / "a.wav"), "--db", str(db), "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)["results"]["defects"]
    assert stored["summary"]["events"] == len(stored["regions"])
    assert {r["label"] for r in stored["regions"]} <= set(DEFECT_TYPES)
