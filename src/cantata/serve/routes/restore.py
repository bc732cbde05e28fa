"""``POST /v1/restore``: a declicked, denoised copy of uploaded audio, kept for download
for a while."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse

from cantata.serve.routes import RouteContext


def add_routes(app: FastAPI, ctx: RouteContext) -> None:
    """``POST /v1/restore`` and ``GET /v1/restorations/{job}/restored.flac``."""

    @app.post("/v1/restore", tags=["analysis"], dependencies=list(ctx.guarded))
    async def restore(request: Request) -> dict[str, Any]:
        """The uploaded audio declicked and denoised, as a 24-bit FLAC file at its rate and
        channels to download from the returned URL (the most recent results are kept)."""
        job, filename, wav, result = await ctx.analyzed_job(request, "restore")
        return {"file": filename, "duration_s": round(wav.duration_s, 3), "id": job,
                "model": result.model, "model_version": result.model_version,
                "clicks": result.summary["clicks"],
                "restored": f"/v1/restorations/{job}/restored.flac"}

    @app.get("/v1/restorations/{job}/restored.flac", tags=["analysis"],
             dependencies=list(ctx.guarded))
    async def restored(job: str) -> FileResponse:
        """The file of an earlier ``/v1/restore`` result."""
        path = ctx.job_file(job, "restored.flac", "restoration")
        return FileResponse(path, media_type="audio/flac")

