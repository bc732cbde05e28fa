"""``POST /v1/assess``: the quality report of uploaded audio."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from cantata.analyzers import TrackAudio
from cantata.serve.routes import RouteContext


def add_routes(app: FastAPI, ctx: RouteContext) -> None:
    """``POST /v1/assess``."""

    @app.post("/v1/assess", tags=["analysis"], dependencies=list(ctx.guarded))
    async def assess(request: Request) -> dict[str, Any]:
        """The quality report of uploaded audio (a multipart form's ``file`` field, or the
        raw body with an audio content type), in the JSON of ``cantata assess``: bandwidth
        and lossy history, loudness against the targets, clipping, stereo, silence, a grade
        and its reasons. The upload's own header is gone once decoded, so ``truncated`` is
        false and a lossy upload's shelf reads as its history."""
        filename, wav = await ctx.decoded_upload(request)
        result = await ctx.analyze("assess", TrackAudio(filename, "", wav))
        return {"file": filename, **result.summary}
