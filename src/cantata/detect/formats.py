"""Region lists as JSON, CSV or Audacity label tracks (pure: regions in, text out)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cantata.types import Segment

FORMATS = {"json": "json", "csv": "csv", "audacity": "txt"}  # format -> file suffix


def regions_dict(file: str, regions: Sequence[Segment]) -> dict[str, Any]:
    """``{"file": …, "regions": [{"start", "end", "label", "confidence"}, …]}``."""
    return {"file": file, "regions": [
        {"start": round(r.start_s, 3), "end": round(r.end_s, 3), "label": r.label,
         "confidence": round(r.confidence, 3)} for r in regions]}


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
