"""The vector index: exact and HNSW search, ranking per track, saving, staleness."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from cantata.analyzers import resolve
from cantata.catalog import Catalog, Result, TrackFacts
from cantata.embed.api import Embedder
from cantata.embed.index import (
    EmbeddingIndex,
    NoEmbeddingsError,
    choose_kind,
    index_paths,
    vary,
)
from cantata.errors import ConfigError
from cantata.scan import scan
from cantata.testing import chirp, noise, sine
from cantata.types import Embeddings

RATE = 16000


def songs():
    """Four 9 s 'songs' that sound nothing alike, each changing along the way."""
    def joined(*parts):
        return np.concatenate([p.samples[0] for p in parts])

    return {
        "tones.wav": joined(sine(220, duration_s=3), sine(330, duration_s=3),
                            sine(440, duration_s=3)),
        "sweeps.wav": joined(*[chirp(f0_hz=200, f1_hz=6000, duration_s=1.5)] * 6),
        "noise.wav": joined(noise(duration_s=4.5, amplitude=0.3, seed=1),
                            noise(duration_s=4.5, amplitude=0.05, seed=2)),
        "high.wav": joined(sine(3000, duration_s=4.5), sine(5000, duration_s=4.5)),
    }


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("embed-lib")
    for name, x in songs().items():
        sf.write(str(root / name), x, RATE)
    return root


@pytest.fixture
def catalog(library, tmp_path):
    with Catalog(tmp_path / "c.db") as c:
        scan(library, c, resolve("embed=debug"), backend="inline")
        yield c


def test_a_segment_of_a_track_finds_that_track(catalog, library):
    embedder = Embedder.from_pretrained("debug")
    index = EmbeddingIndex.open(catalog, "debug")
    assert index.kind == "exact" and index.info["rebuilt"] and index.info["tracks"] == 4
    clip, _ = sf.read(str(library / "tones.wav"), start=3 * RATE, stop=7 * RATE,
                      dtype="float32")
    from cantata.types import Waveform

    query = embedder.embed_segments(Waveform(clip[None], RATE), hop_s=0.75)
    matches = index.search(query, k=3)
    assert [m.path.rsplit("/", 1)[1] for m in matches][0] == "tones.wav"
    best = matches[0]
    assert best.track_s - best.query_s == pytest.approx(3.0, abs=0.05)  # aligned in time
    assert best.distance < matches[1].distance and 0 < best.score <= 1
    assert len({m.track_id for m in matches}) == 3 and best.hits >= 1
    whole = index.search(embedder.embed_segments(library / "sweeps.wav"), k=10)
    assert len(whole) == 4 and whole[0].path.endswith("sweeps.wav")
    assert whole[0].distance == pytest.approx(0.0, abs=1e-3)
    assert set(whole[0].to_dict()) == {"track_id", "path", "distance", "score", "track_s",
                                       "query_s", "hits"}


def test_the_index_is_saved_reused_and_rebuilt_when_stale(catalog, library, tmp_path):
    paths = index_paths(catalog, "debug")
    assert paths["faiss"].parent == tmp_path / "c-files"
    first = EmbeddingIndex.open(catalog, "debug")
    assert first.info["rebuilt"] and all(p.is_file() for p in paths.values())
    again = EmbeddingIndex.open(catalog, "debug")
    assert not again.info["rebuilt"] and len(again) == len(first)
    assert json.loads(paths["info"].read_text())["vectors"] == len(first)

    extra = Embeddings([0.0], 3.0, np.zeros((1, first.dim)), "debug")
    catalog.write_track(TrackFacts("/elsewhere/new.wav", "hnew", 1, 1, duration_s=3.0),
                        [Result("embed", "1", "debug", "debug", embeddings=extra)])
    stale = EmbeddingIndex.open(catalog, "debug")
    assert stale.info["rebuilt"] and len(stale) == len(first) + 1
    found = stale.search(extra, k=1)
    assert found[0].path == "/elsewhere/new.wav" and found[0].distance == 0.0

    catalog.remove(found[0].track_id)
    assert EmbeddingIndex.open(catalog, "debug").info["rebuilt"]
    paths["rows"].write_bytes(b"damaged")
    assert EmbeddingIndex.open(catalog, "debug").info["rebuilt"]
    assert not EmbeddingIndex.open(catalog, "debug").info["rebuilt"]
    hnsw = EmbeddingIndex.open(catalog, "debug", kind="hnsw")  # another kind: rebuilt
    assert hnsw.kind == "hnsw" and hnsw.info["rebuilt"]


def test_no_embeddings_of_the_model_is_a_clear_error(catalog, tmp_path):
    with pytest.raises(NoEmbeddingsError, match=r"no embeddings of 'other'.*debug \(4 tracks"
                                                r".*--analyzers embed"):
        EmbeddingIndex.open(catalog, "other")
    with Catalog(tmp_path / "empty.db") as empty, \
            pytest.raises(NoEmbeddingsError, match="run cantata scan"):
        EmbeddingIndex.open(empty, "debug")


def test_hnsw_agrees_with_exact_on_small_sets_and_auto_picks_by_size():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((2000, 16)).astype(np.float32)
    track_ids, starts = np.arange(2000) // 10, (np.arange(2000) % 10) * 1.5
    exact = EmbeddingIndex.from_arrays(track_ids, starts, vectors, kind="exact")
    hnsw = EmbeddingIndex.from_arrays(track_ids, starts, vectors, kind="hnsw")
    query = Embeddings([0.0, 1.5], 3.0, vectors[[55, 56]] + [[0.001], [0.05]])
    a, b = exact.search(query, k=5), hnsw.search(query, k=5)
    assert a[0].track_id == b[0].track_id == 5 and a[0].track_s == 7.5
    assert a[0].hits == 2 and a[0].query_s == 0.0 and a[0].path == ""
    assert choose_kind("auto", 10**6) == "exact" and choose_kind("auto", 10**7) == "hnsw"
    with pytest.raises(ConfigError, match="index kind"):
        choose_kind("ivf", 10)
    with pytest.raises(ConfigError, match="embedded with 'x'"):
        EmbeddingIndex.from_arrays(track_ids, starts, vectors, model_version="y").search(
            Embeddings([0.0], 3.0, vectors[:1], "x"))


def test_variations_are_seeded_perturbations():
    query = Embeddings([0.0, 1.5], 3.0, np.zeros((2, 8)), "m")
    one, two = vary(query, sigma=0.5, n=2, seed=3)
    again = vary(query, sigma=0.5, n=2, seed=3)
    np.testing.assert_array_equal(one.vectors, again[0].vectors)
    assert not np.array_equal(one.vectors, two.vectors)
    assert one.model_version == "m" and 0.3 < one.vectors.std() < 0.7
    with pytest.raises(ConfigError, match="sigma > 0"):
        vary(query, sigma=0.0)


def test_cosine_metric_ranks_by_angle_and_is_part_of_the_saved_index(tmp_path, catalog):
    vectors = np.array([[1.0, 0.0], [10.0, 1.0], [3.0, 2.0]], np.float32)
    track_ids, starts = np.arange(3), np.zeros(3)
    query = Embeddings([0.0], 3.0, np.array([[4.0, 0.4]], np.float32))
    by_distance = EmbeddingIndex.from_arrays(track_ids, starts, vectors)
    by_angle = EmbeddingIndex.from_arrays(track_ids, starts, vectors, metric="cosine")
    assert [m.track_id for m in by_distance.search(query, k=3)] == [2, 0, 1]
    assert [m.track_id for m in by_angle.search(query, k=3)] == [1, 0, 2]
    assert by_angle.info["metric"] == "cosine"
    with pytest.raises(ConfigError, match="metric must be one of"):
        EmbeddingIndex.from_arrays(track_ids, starts, vectors, metric="dot")
    EmbeddingIndex.open(catalog, "debug")
    assert EmbeddingIndex.open(catalog, "debug", metric="cosine").info["rebuilt"]
    assert not EmbeddingIndex.open(catalog, "debug", metric="cosine").info["rebuilt"]
