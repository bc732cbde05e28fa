"""Region lists as JSON, CSV or Audacity label tracks (pure: regions in, text out)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cantata.types import Segment

FORMATS = {"json": "json", "csv": "csv", "audacity": "txt"}  # format -> file suffix


def regions_dict(file: str, regions: Sequence[Segment], *, model: str | None = None,
                 duration_s: float | None = None) -> dict[str, Any]:
    """``{"file", "model", "duration_s", "regions": [region_dict(r), …]}`` (``model`` and
    ``duration_s`` where given)."""
    head: dict[str, Any] = {"file": file}
    if model is not None:
        head["model"] = model
    if duration_s is not None:
        head["duration_s"] = round(duration_s, 3)
    return {**head, "regions": [region_dict(r) for r in regions]}


def region_dict(region: Segment, *, ndigits: int = 3) -> dict[str, Any]:
    """``{"start_s", "end_s", "label", "confidence", "start", "end"}``: ``start`` and
    ``end`` repeat ``start_s`` and ``end_s``, deprecated names kept for a release."""
    fields = region.to_dict(ndigits=ndigits)
    return {**fields, "start": fields["start_s"], "end": fields["end_s"]}


def render(fmt: str, file: str, regions: Sequence[Segment]) -> str:
    """The text of one result file in ``fmt`` (json, csv or audacity)."""
    if fmt == "json":
        return json.dumps(regions_dict(file, regions), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        rows = [f"{r.start_s:.3f},{r.end_s:.3f},{r.label},{r.confidence:.3f}" for r in regions]
        return "\n".join(["start,end,label,confidence", *rows]) + "\n"
    if fmt == "audacity":  # Audacity's label-track import: start<TAB>end<TAB>label
        return "".join(f"{r.start_s:.6f}\t{r.end_s:.6f}\t{r.label}\n" for r in regions)
    raise ValueError(f"unknown format {fmt!r}")


def render_many(fmt: str, results: Sequence[tuple[str, Sequence[Segment]]]) -> str:
    """The regions of several files as one text: one file's is :func:`render`'s; several
    in CSV get a leading ``file`` column.

    Raises:
        ValueError: several files in another format (an Audacity label track is one file's).
    """
    if len(results) == 1:
        return render(fmt, *results[0])
    if fmt == "csv":
        rows = [f"{_csv_field(file)},{r.start_s:.3f},{r.end_s:.3f},{r.label},{r.confidence:.3f}"
                for file, regions in results for r in regions]
        return "\n".join(["file,start,end,label,confidence", *rows]) + "\n"
    raise ValueError(f"{fmt} holds one file's regions, not {len(results)}")


def _csv_field(text: str) -> str:
    """``text`` as one CSV field, quoted where it holds a comma, a quote or a line break."""
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text
