"""``POST /v1/defects``: defect events and the song verdict of uploaded audio."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from cantata.analyzers import Result, TrackAudio
from cantata.serve.routes import RouteContext


def add_routes(app: FastAPI, ctx: RouteContext) -> None:
    """``POST /v1/defects``."""

    @app.post("/v1/defects", tags=["analysis"], dependencies=list(ctx.guarded))
    async def defects(request: Request) -> dict[str, Any]:
        """Defect events and the song verdict of uploaded audio (a multipart form's
        ``file`` field, or the raw body with an audio content type), in the JSON of
        ``cantata defects``. Concurrent requests are batched."""
        filename, wav = await ctx.decoded_upload(request)
        result = await ctx.analyze("defects", TrackAudio(filename, "", wav))
        return answer(result, filename, wav.duration_s)


def answer(result: Result, filename: str, duration_s: float) -> dict[str, Any]:
    """The ``defects`` analyzer's result as ``{"file", "model", "duration_s", "events":
    [{"type", "start", "end", "confidence"}], "verdict": {"defective", "types", "score"}}``."""
    summary = result.summary
    events = [{"type": r.label, "start": round(r.start_s, 6), "end": round(r.end_s, 6),
               "confidence": round(float(r.confidence), 4)} for r in result.regions]
    verdict = {"defective": bool(summary["defective"]), "types": dict(summary["types"]),
               "score": round(float(summary["score"]), 4)}
    return {"file": filename, "model": result.model, "duration_s": round(duration_s, 6),
            "events": events, "verdict": verdict}
