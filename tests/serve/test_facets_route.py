"""The catalog's facets over HTTP: ``GET /v1/facets``, the facet filters of ``/v1/tracks``
and their refusals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cantata.catalog import Catalog
from cantata.serve import ServeConfig, create_app
from cantata.testing.catalogs import write_facet_catalog as write

AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("facets") / "c.db"
    with Catalog(db) as catalog:
        write(catalog)
    config = ServeConfig(db=db, detect_model="debug-multilabel", separate_model="debug",
                         token="s3cret")
    return TestClient(create_app(config), headers=AUTH)  # no lifespan: no models needed


def listed(client, query):
    body = client.get(f"/v1/tracks?{query}")
    assert body.status_code == 200, body.text
    return body.json()["total"], sorted(t["path"][5:-4] for t in body.json()["tracks"])


def test_tracks_filtered_by_each_facet(client):
    # etude: assess grade B, but defective: C, as its quality report says
    assert listed(client, "grade=C") == (3, ["anthem", "drone", "etude"])
    assert listed(client, "defect_type=click&tag=vocal") == (1, ["anthem"])
    assert listed(client, "quality=transcoded") == (1, ["etude"])
    assert listed(client, "lufs_min=-20&lufs_max=-9") == (2, ["ballad", "etude"])
    assert listed(client, "vocal_min=0.5") == (1, ["ballad"])
    assert listed(client, "duration_min=600") == (1, ["drone"])
    assert listed(client, "status=missing") == (1, ["gone"])
    assert listed(client, "defective=true&sort=quality&desc=true&limit=1") == (2, ["anthem"])
    assert listed(client, "")[0] == 5
    for sort in ("quality", "vocal_s", "stems", "tags", "status", "duration_s"):
        assert listed(client, f"sort={sort}&desc=true")[0] == 5


def test_the_facets_json(client):
    body = client.get("/v1/facets?tag=vocal").json()
    assert body["total"] == 2 and list(body["facets"]) == [
        "status", "grade", "loudness", "vocal_share", "duration", "tags", "defect_types",
        "quality"]
    facets = body["facets"]
    assert facets["status"] == [{"value": "ok", "tracks": 2}, {"value": "failed", "tracks": 0},
                                {"value": "missing", "tracks": 0}]
    assert [g["value"] for g in facets["grade"]] == list("ABCDEF")
    assert facets["tags"] == [{"value": "vocal", "tracks": 2}, {"value": "piano", "tracks": 1},
                              {"value": "rock", "tracks": 1}]
    assert facets["defect_types"] == [{"value": "click", "tracks": 1}]
    assert facets["loudness"][0] == {"min": None, "max": -30.0, "tracks": 0}
    assert facets["duration"][-1] == {"min": 600.0, "max": None, "tracks": 0}
    # a grade chosen: the grade facet still counts every grade of the tag's tracks
    graded = client.get("/v1/facets?tag=vocal&grade=A").json()
    assert graded["total"] == 1
    assert [g["tracks"] for g in graded["facets"]["grade"]][:3] == [1, 0, 1]
    assert {"tag": "rock", "tracks": 1} in client.get("/v1/tags?grade=C").json()["tags"]
    assert client.get("/v1/facets", headers={"Authorization": "Bearer no"}).status_code == 401


@pytest.mark.parametrize(("query", "message"), [
    ("grade=G", "grade: unknown 'G'; choose from A, B, C, D, E, F"),
    ("quality=shiny", "quality: unknown 'shiny'"),
    ("defect_type=scratch", "defect_type: unknown 'scratch'"),
    ("status=gone", "status: unknown 'gone'; choose from ok, failed, missing"),
    ("lufs_min=-8&lufs_max=-20", "lufs_min (-8) is above lufs_max (-20)"),
    ("vocal_max=80", "vocal_min and vocal_max are shares of the duration, 0..1"),
    ("duration_min=nan", "duration_min and duration_max must be finite numbers"),
])
def test_bad_filters_are_refused_saying_why(client, query, message):
    for route in ("/v1/tracks", "/v1/facets"):
        answer = client.get(f"{route}?{query}")
        assert answer.status_code == 422 and message in answer.json()["detail"]
    assert client.get("/v1/facets?lufs_min=loud").status_code == 422
