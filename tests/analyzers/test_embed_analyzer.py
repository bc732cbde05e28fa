"""The embed analyzer: spec, results with embeddings, and a scan that stores them."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from cantata.analyzers import TrackAudio, build, resolve
from cantata.catalog import Catalog
from cantata.errors import ModelLoadError
from cantata.scan import scan
from cantata.testing import chirp, noise


def test_resolve_names_the_model_without_loading_it(tmp_path):
    (spec,) = resolve("embed=debug")
    assert (spec.name, spec.model, spec.model_version) == ("embed", "debug", "debug")
    with pytest.raises(ModelLoadError, match="unknown model"):
        resolve("embed=/no/such.pt")


def test_segments_overlap_by_half_from_the_path_or_the_audio(tmp_path):
    wav = noise(duration_s=7.0, sample_rate=22050, n_channels=2, seed=1)
    path = tmp_path / "song.wav"
    sf.write(str(path), wav.samples.T, 22050)
    analyzer = build(resolve("embed=debug")[0])
    from_path, from_wav = analyzer.analyze([TrackAudio(str(path), "h", None),
                                            TrackAudio(str(path), "h", wav)])
    segment_s = analyzer.embedder.segment_s
    assert from_path.summary == {"segments": 4, "dim": analyzer.embedder.dim,
                                 "segment_s": segment_s}
    np.testing.assert_allclose(from_path.embeddings.starts_s[:3],
                               np.arange(3) * segment_s / 2)
    assert from_path.embeddings.starts_s[-1] == pytest.approx(7.0 - segment_s, abs=0.03)
    np.testing.assert_allclose(from_path.embeddings.vectors, from_wav.embeddings.vectors,
                               atol=1e-4)
    assert from_path.embeddings.model_version == from_path.model_version == "debug"


def test_a_scan_stores_every_tracks_embeddings(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    sf.write(str(lib / "a.wav"), noise(duration_s=4.0, seed=2).samples.T, 16000)
    sf.write(str(lib / "b.flac"), chirp(duration_s=2.0).samples.T, 16000)  # < a segment
    with Catalog(tmp_path / "c.db") as catalog:
        summary = scan(lib, catalog, resolve("detect=debug,embed=debug"), backend="inline")
        assert summary.analyzed == 2 and "embed" in summary.seconds
        ids, starts, vectors = catalog.embeddings("debug")
        tracks = {t.path.rsplit("/", 1)[1]: t for t in catalog.tracks(with_results=True)}
    assert tracks["a.wav"].results["embed"].summary["segments"] == 2
    assert tracks["b.flac"].results["embed"].summary["segments"] == 1
    assert sorted(ids.tolist()) == sorted([tracks["a.wav"].id] * 2 + [tracks["b.flac"].id])
    assert vectors.shape == (3, 8) and np.isfinite(vectors).all()
