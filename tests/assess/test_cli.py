"""`cantata assess` end to end, the analyzer in a scan, and the catalog's quality views."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from cantata.analyzers import TrackAudio, build, resolve
from cantata.catalog import Catalog, Result, TrackFacts
from cantata.catalog.quality import quality
from cantata.catalog.report import write_report
from cantata.cli import main
from cantata.errors import ModelLoadError
from cantata.scan import scan
from cantata.types import Waveform

from .conftest import noise, sine


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_assess_files_and_folders_to_json_reports_and_plots(tmp_path, capsys):
    lib = tmp_path / "lib"
    lib.mkdir()
    x = noise(2.0, level=0.05)
    sf.write(lib / "a.wav", x.T, 44100, subtype="PCM_16")
    sf.write(lib / "copy.flac", x.T, 44100, subtype="PCM_16")  # the same audio
    sf.write(lib / "clipped.wav", np.clip(sine(100, 0, 2, 44100) * 2, -0.8, 0.8).T, 44100)
    envelope = np.repeat(np.random.default_rng(1).uniform(0.1, 1.0, 40), 4410)[None]
    song = noise(4.0, level=0.05, seed=2) * envelope  # loudness that moves, as music's does
    sf.write(lib / "song.wav", song.T, 44100, subtype="PCM_16")
    sf.write(lib / "song-edit.wav", 0.7 * song[:, 4410:].T, 44100)  # trimmed and quieter
    out = tmp_path / "out"
    code, stdout, _ = cli(capsys, "assess", lib, "-o", out, "--plot", "--target", "ebu",
                          "--json")
    reports = {r["file"].rsplit("/", 1)[1]: r for r in json.loads(stdout)}
    assert code == 0 and set(reports) == {"a.wav", "copy.flac", "clipped.wav", "song.wav",
                                          "song-edit.wav"}
    assert [(d["file"].rsplit("/", 1)[1], d["kind"]) for d in reports["a.wav"]["duplicates"]] \
        == [("copy.flac", "identical")]
    (near,) = reports["song.wav"]["duplicates"]
    assert near["file"].endswith("song-edit.wav") and near["kind"] == "near"
    assert not reports["clipped.wav"]["duplicates"]
    assert reports["clipped.wav"]["grade"] == "D"
    assert reports["a.wav"]["reasons"][-1].startswith("for EBU R128 (-23 LUFS)")
    for name in ("a", "copy", "clipped"):
        assert json.loads((out / f"{name}.json").read_text())["file"].endswith(name + (
            ".flac" if name == "copy" else ".wav"))
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "song-edit.json").is_file()
    code, _, err = cli(capsys, "assess", lib / "a.wav", "-o", out)
    assert code == 2 and "a.json" in err  # no overwrite without --overwrite
    code, stdout, _ = cli(capsys, "assess", lib / "a.wav")
    assert code == 0 and "a.wav" in stdout


def test_bad_inputs_are_named(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    code, _, err = cli(capsys, "assess", bad)
    assert code == 2 and "bad.wav" in err
    code, _, err = cli(capsys, "assess", bad, "--target", "loud")
    assert code == 2 and "--target" in err


def test_analyzer_spec_and_result(tmp_path):
    (spec,) = resolve("assess")
    assert (spec.model, spec.model_version) == ("rules", "assess-rules-2")
    with pytest.raises(ModelLoadError, match="assess: unknown model"):
        resolve("assess=big")
    path = tmp_path / "a.flac"
    sf.write(path, noise(1.0).T, 44100, subtype="PCM_24")  # 16-bit audio in 24 bits
    analyzer = build(spec)
    wav = Waveform(noise(1.0), 44100)
    held, streamed, upload = analyzer.analyze([
        TrackAudio(str(path), "h", wav), TrackAudio(str(path), "h", None),
        TrackAudio("upload.flac", "", wav)])
    assert held.summary == streamed.summary and "file" not in held.summary
    assert held.summary["padded"] == {"declared_bits": 24, "used_bits": 16}
    assert upload.summary["padded"] is None  # no header to say it is 24-bit


def assess_result(**changes):
    summary = {"grade": "A", "reasons": [], "pcm_hash": "h", "duration_s": 10.0,
               "bandwidth_hz": 22050, "upsampled": False, "truncated": False,
               "lossy": {"transcoded": False, "codec": None, "bitrate_class": None,
                         "confidence": 0.9},
               "loudness": {"integrated_lufs": -14.0, "range_lu": 5.0, "true_peak_dbtp": -1.5,
                            "plr_db": 12.5, "targets": {"streaming": {"ok": True,
                                                                      "gain_db": 0.0}}},
               "clipping": {"runs": 0, "seconds": 0.0}, "dc_offset": 0.0,
               "stereo": {"correlation": 0.9, "mono_loss_db": -0.2},
               "silence": {"head_s": 0.0, "tail_s": 0.0}, "duplicates": [], "defects": None}
    for key, value in changes.items():
        summary[key] = value
    return Result("assess", "1", "rules", "assess-rules-1", summary)


def test_catalog_filters_sort_show_and_report(tmp_path, capsys):
    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        def add(name, results):
            facts = TrackFacts(f"/m/{name}", name.ljust(32, "0"), 1, 1, duration_s=10.0)
            return catalog.write_track(facts, results)

        add("clean", [assess_result()])
        add("dup", [assess_result()])  # same pcm_hash: identical to clean
        add("mp3", [assess_result(grade="C", pcm_hash="m", lossy={
            "transcoded": True, "codec": "mp3", "bitrate_class": "128k", "confidence": 0.99})])
        add("loud", [assess_result(grade="D", pcm_hash="l", clipping={"runs": 40,
                                                                       "seconds": 0.1},
                                   loudness={"integrated_lufs": -8.0, "range_lu": 3.0,
                                             "true_peak_dbtp": 0.5, "plr_db": 8.5,
                                             "targets": {"streaming": {"ok": False,
                                                                       "gain_db": -6.0}}}),
                     Result("defects", "1", "debug", "debug", {"defective": True,
                                                               "types": {"click": 2}})])
        add("unassessed", [])
        paths = lambda **kw: [t.path[3:] for t in catalog.tracks(**kw)]  # noqa: E731
        assert paths(quality=["transcoded"]) == ["mp3"]
        assert paths(quality=["clipped"]) == paths(quality=["too_loud"]) == ["loud"]
        assert paths(sort="quality") == ["clean", "dup", "mp3", "loud", "unassessed"]
        report = quality(catalog, catalog.track("/m/loud"))
        assert report["defects"]["types"] == {"click": 2} and report["grade"] == "D"
        assert any("defect detector found 2 click" in r for r in report["reasons"])
        clean = quality(catalog, catalog.track("/m/clean"))
        assert clean["duplicates"] == [{"file": "/m/dup", "track": 2, "kind": "identical",
                                        "similarity": 1.0}]
        written = write_report(catalog, tmp_path / "r.html")
    page = written.html.read_text()
    assert "Quality" in page and "/tracks/4" in page and "louder than -13 LUFS" in page
    code, stdout, _ = cli(capsys, "catalog", "ls", "--db", db, "--transcoded", "--json")
    assert code == 0 and [t["path"] for t in json.loads(stdout)] == ["/m/mp3"]
    code, stdout, _ = cli(capsys, "catalog", "ls", "--db", db, "--sort", "quality", "--desc",
                          "--too-loud", "--clipped")
    assert code == 0 and "/m/loud" in stdout and "/m/mp3" not in stdout
    code, stdout, _ = cli(capsys, "catalog", "show", "/m/mp3", "--db", db, "--json")
    assert json.loads(stdout)["quality"]["lossy"]["codec"] == "mp3"


def test_scan_assesses_by_default(tmp_path):
    from cantata.cli import parse

    assert "assess" in parse(["scan", str(tmp_path)]).analyzers.split(",")
    lib = tmp_path / "lib"
    lib.mkdir()
    sf.write(lib / "a.wav", noise(1.0).T, 44100, subtype="PCM_16")
    with Catalog(tmp_path / "c.db") as catalog:
        assert scan(lib, catalog, resolve("assess"), backend="inline").analyzed == 1
        (track,) = catalog.tracks(with_results=True)
    assert track.results["assess"].summary["grade"] in "ABCDF"


def test_near_duplicates_come_from_the_embeddings(tmp_path):
    from cantata.types import Embeddings

    rng = np.random.default_rng(0)
    # a song's segments resemble each other: one direction each, plus a little
    song = rng.standard_normal(8) + 0.1 * rng.standard_normal((4, 8))
    other = rng.standard_normal(8) + 0.1 * rng.standard_normal((4, 8))

    def embed(vectors):
        return Result("embed", "1", "embedder", "emb-1", {}, embeddings=Embeddings(
            np.arange(len(vectors)) * 1.5, 3.0, vectors, "emb-1"))

    with Catalog(tmp_path / "c.db") as catalog:
        for name, hash_, vectors in (("song", "a", song), ("song-edit", "b", song[1:] + 0.01),
                                     ("other", "c", other)):
            facts = TrackFacts(f"/m/{name}", name.ljust(32, "0"), 1, 1, duration_s=10.0)
            catalog.write_track(facts, [assess_result(pcm_hash=hash_), embed(vectors)])
        report = quality(catalog, catalog.track("/m/song"))
    assert [(d["file"], d["kind"]) for d in report["duplicates"]] == [("/m/song-edit", "near")]
    assert report["duplicates"][0]["similarity"] >= 0.98
