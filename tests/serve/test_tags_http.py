"""The catalog's tags over HTTP: ``/v1/tracks?tag=`` and the ``/v1/tags`` facet."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cantata.catalog import Catalog, Result, TrackFacts
from cantata.serve import ServeConfig, create_app

AUTH = {"Authorization": "Bearer s3cret"}
VOCABULARY = ("piano", "guitar", "rock", "vocal")


def tag_result(scores):
    """A ``tag`` result as the analyzer stores it (scores of :data:`VOCABULARY`)."""
    ranked = sorted(({"tag": t, "score": s, "present": s >= 0.5}
                     for t, s in zip(VOCABULARY, scores, strict=True)),
                    key=lambda t: -t["score"])
    return Result("tag", "1", "debug", "debug",
                  {"tags": ranked, "present": [t["tag"] for t in ranked if t["present"]]})


def test_tracks_filtered_by_tags_and_the_facet(tmp_path):
    db = tmp_path / "c.db"
    with Catalog(db) as catalog:
        for name, scores in [("ballad.wav", (0.9, 0.2, 0.1, 0.8)),
                             ("anthem.wav", (0.1, 0.95, 0.9, 0.7)),
                             ("etude.wav", (0.99, 0.1, 0.05, 0.1))]:
            catalog.write_track(TrackFacts(f"/lib/{name}", name, 1, 1, duration_s=3.0),
                                [tag_result(scores)])
    config = ServeConfig(db=db, detect_model="debug-multilabel", separate_model="debug",
                         token="s3cret")
    with TestClient(create_app(config), headers=AUTH) as client:
        def listed(query):
            body = client.get(f"/v1/tracks?{query}").json()
            return body["total"], [t["path"].rsplit("/", 1)[1] for t in body["tracks"]]

        assert listed("tag=piano") == (2, ["ballad.wav", "etude.wav"])
        assert listed("tag=piano&tag=vocal") == (1, ["ballad.wav"])
        assert listed("tag=jazz") == (0, [])
        assert listed("")[0] == 3
        facet = client.get("/v1/tags").json()
        assert facet == {"tags": [{"tag": "piano", "tracks": 2}, {"tag": "vocal", "tracks": 2},
                                  {"tag": "guitar", "tracks": 1}, {"tag": "rock", "tracks": 1}]}
        narrowed = client.get("/v1/tags?tag=guitar&search=anthem").json()["tags"]
        assert [(t["tag"], t["tracks"]) for t in narrowed] == [("guitar", 1), ("rock", 1),
                                                               ("vocal", 1)]
        assert client.get("/v1/tags", headers={"Authorization": "Bearer no"}).status_code == 401
