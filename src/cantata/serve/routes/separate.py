"""``POST /v1/separate``: stems of uploaded audio, kept for download for a while."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse

from cantata.serve.routes import RouteContext


def add_routes(app: FastAPI, ctx: RouteContext) -> None:
    """``POST /v1/separate`` and ``GET /v1/separations/{job}/{stem}.flac``."""

    @app.post("/v1/separate", tags=["analysis"], dependencies=list(ctx.guarded))
    async def separate(request: Request) -> dict[str, Any]:
        """Vocal and accompaniment stems of uploaded audio, as FLAC files to download from
        the returned URLs (the most recent results are kept)."""
        job, filename, wav, result = await ctx.analyzed_job(request, "separate")
        return {"file": filename, "duration_s": round(wav.duration_s, 3), "id": job,
                "model": result.model, "model_version": result.model_version,
                "stems": {stem: f"/v1/separations/{job}/{stem}.flac" for stem in result.stems}}

    @app.get("/v1/separations/{job}/{stem}.flac", tags=["analysis"],
             dependencies=list(ctx.guarded))
    async def separation_stem(job: str, stem: str) -> FileResponse:
        """A stem of an earlier ``/v1/separate`` result."""
        path = ctx.job_file(job, f"{stem}.flac", "separation")
        return FileResponse(path, media_type="audio/flac")

