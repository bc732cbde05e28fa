"""A tiny catalog for tests of the catalog's facets and filters, over the API and HTTP:
four songs with every result the facets read (in their stored shapes), a track that
failed and one whose file is gone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cantata.catalog import Catalog, Result, TrackFacts

#: name, duration s, LUFS, grade, transcoded, clipping runs, vocal s, defect types, tags
FACET_SONGS = (
    ("ballad", 200.0, -18.0, "A", False, 0, 150.0, {}, ("piano", "vocal")),
    ("anthem", 240.0, -9.0, "C", False, 4, 60.0, {"click": 3}, ("rock", "vocal")),
    ("etude", 90.0, -20.0, "B", True, 0, 0.0, {"click": 1, "dropout": 2}, ("piano",)),
    ("drone", 700.0, -31.0, "C", False, 0, 10.0, {}, ()))


def assess_summary(grade: str, lufs: float, transcoded: bool, runs: int) -> dict[str, Any]:
    """An ``assess`` summary with the fields the facets read (the stored shape)."""
    return {"grade": grade, "lossy": {"transcoded": transcoded},
            "loudness": {"integrated_lufs": lufs,
                         "targets": {"streaming": {"ok": False, "gain_db": -14.0 - lufs}}},
            "clipping": {"runs": runs, "seconds": 0.01 * runs}}


def facet_results(song: tuple) -> list[Result]:
    """The assess, detect, defects and tag results of one of :data:`FACET_SONGS`."""
    name, duration, lufs, grade, transcoded, runs, vocal, types, tags = song
    all_types = {"click": 0, "dropout": 0, "hum": 0, **types}
    return [Result("assess", "1", "rules", "a", assess_summary(grade, lufs, transcoded, runs)),
            Result("detect", "2", "singing", "m", {"vocal_s": vocal, "regions": 1}),
            Result("defects", "1", "d", "d", {"defective": bool(types), "score": 0.5,
                                              "types": all_types, "events": sum(types.values())}),
            Result("tag", "1", "t", "t", {"tags": [{"tag": t, "score": 0.9, "present": True}
                                                   for t in tags], "present": list(tags)})]


def write_facet_catalog(catalog: Catalog, songs: Sequence[tuple] = FACET_SONGS) -> None:
    """Write ``songs`` into ``catalog``, then a failed track and a missing one."""
    for song in songs:
        name, duration, lufs = song[:3]
        catalog.write_track(TrackFacts(f"/lib/{name}.wav", name, 1, 1, duration_s=duration,
                                       loudness_lufs=lufs), facet_results(song))
    catalog.write_track(TrackFacts("/lib/broken.mp3", "x", 1, 1, error="cannot decode"))
    catalog.write_track(TrackFacts("/lib/gone.wav", "g", 1, 1, duration_s=100.0))
    catalog.set_missing(["/lib/gone.wav"])
