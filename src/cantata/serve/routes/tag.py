"""``POST /v1/tag``: the tags of uploaded audio."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from cantata.analyzers import Result, TrackAudio
from cantata.serve.routes import RouteContext


def add_routes(app: FastAPI, ctx: RouteContext) -> None:
    """``POST /v1/tag``."""

    @app.post("/v1/tag", tags=["analysis"], dependencies=list(ctx.guarded))
    async def tag(request: Request) -> dict[str, Any]:
        """The tags of uploaded audio (a multipart form's ``file`` field, or the raw body
        with an audio content type), in the JSON of ``cantata tag``. Concurrent requests
        are batched."""
        filename, wav = await ctx.decoded_upload(request)
        result = await ctx.analyze("tag", TrackAudio(filename, "", wav))
        return answer(result, filename, wav.duration_s)


def answer(result: Result, filename: str, duration_s: float) -> dict[str, Any]:
    """The ``tag`` analyzer's result as ``{"file", "model", "duration_s", "tags": [{"tag",
    "score", "present"}, ...]}``, tags sorted by score."""
    return {"file": filename, "model": result.model, "duration_s": round(duration_s, 6),
            "tags": [dict(t) for t in result.summary["tags"]]}
