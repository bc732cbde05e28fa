"""``POST /v1/detect``: singing regions of uploaded audio."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from cantata.analyzers import TrackAudio
from cantata.serve.routes import RouteContext
from cantata.types import Segment


def add_routes(app: FastAPI, ctx: RouteContext) -> None:
    """``POST /v1/detect``."""

    @app.post("/v1/detect", tags=["analysis"], dependencies=list(ctx.guarded))
    async def detect(request: Request) -> dict[str, Any]:
        """Singing regions of uploaded audio: a multipart form's ``file`` field, or the raw
        body with an audio content type. Concurrent requests share forward passes."""
        filename, wav = await ctx.decoded_upload(request)
        result = await ctx.analyze("detect", TrackAudio(filename, "", wav))
        return {"file": filename, "duration_s": round(wav.duration_s, 3),
                "model": result.model, "model_version": result.model_version,
                "regions": [_region(r) for r in result.regions]}


def _region(region: Segment) -> dict[str, Any]:
    """One region as JSON; ``start`` and ``end`` are deprecated aliases of ``start_s``,
    ``end_s``, kept for a release."""
    start_s, end_s = round(region.start_s, 3), round(region.end_s, 3)
    return {"start_s": start_s, "end_s": end_s, "label": region.label,
            "confidence": round(region.confidence, 4), "start": start_s, "end": end_s}
