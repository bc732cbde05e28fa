"""A track's quality report as the catalog knows it: the ``assess`` analyzer's summary
with what depends on other results joined in — the ``defects`` summary, the tracks with
the same decoded audio, and near duplicates by their embeddings."""

from __future__ import annotations

from typing import Any

from cantata.assess.duplicates import near_by_embeddings
from cantata.assess.grade import findings, grade
from cantata.catalog.db import Catalog
from cantata.catalog.records import Track

ANALYZER = "assess"


def quality(catalog: Catalog, track: Track, *, near: bool = True) -> dict[str, Any] | None:
    """The report of ``track`` (the JSON of ``cantata assess``), or None without an
    ``assess`` result. ``near``: also look for near duplicates among the embeddings (reads
    every embedding of the model; leave out for listings)."""
    result = track.results.get(ANALYZER)
    if result is None:
        return None
    report: dict[str, Any] = {"file": track.path, **result.summary}
    defects = track.results.get("defects")
    if defects is not None:
        report["defects"] = dict(defects.summary)
    dups = [{"file": path, "track": tid, "kind": "identical", "similarity": 1.0}
            for tid, path in catalog.same_audio(report.get("pcm_hash", "")).items()
            if tid != track.id]
    embed = track.results.get("embed")
    if near and embed is not None and embed.embeddings is not None:
        ids, _, vectors = catalog.embeddings(embed.embeddings.model_version or
                                             embed.model_version)
        same = {d["track"] for d in dups}
        found = [(tid, s) for tid, s in near_by_embeddings(ids, vectors, track.id)
                 if tid not in same]
        paths = catalog.paths([tid for tid, _ in found])
        dups += [{"file": paths[tid], "track": tid, "kind": "near", "similarity": s}
                 for tid, s in found if tid in paths]
    report["duplicates"] = dups
    return regrade(report)


def with_defects(track: Track) -> dict[str, Any] | None:
    """The stored ``assess`` summary with the ``defects`` summary joined and the grade
    redone (no duplicates: what a catalog-wide count needs), or None."""
    result = track.results.get(ANALYZER)
    if result is None:
        return None
    report = dict(result.summary)
    defects = track.results.get("defects")
    if defects is not None:
        report["defects"] = dict(defects.summary)
    return regrade(report)


def regrade(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` with its grade and reasons redone from its facts (the loudness advice,
    the reasons starting "for ", kept)."""
    found = findings(report)
    advice = [r for r in report.get("reasons", []) if r.startswith("for ")]
    return {**report, "grade": grade(found), "reasons": [f.text for f in found] + advice}
