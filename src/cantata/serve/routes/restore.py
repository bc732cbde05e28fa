"""``POST /v1/restore``: a declicked, denoised copy of uploaded audio, kept for download
for a while."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from cantata.analyzers import TrackAudio
from cantata.serve import uploads
from cantata.serve.routes import RouteContext


def add_routes(app: FastAPI, ctx: RouteContext) -> None:
    """``POST /v1/restore`` and ``GET /v1/restorations/{job}/restored.flac``."""

    @app.post("/v1/restore", tags=["analysis"], dependencies=list(ctx.guarded))
    async def restore(request: Request) -> dict[str, Any]:
        """The uploaded audio declicked and denoised, as a 24-bit FLAC file at its rate and
        channels to download from the returned URL (the most recent results are kept)."""
        job = uuid.uuid4().hex
        folder = ctx.results_dir / job
        path, filename = await uploads.receive(request, folder, max_bytes=ctx.max_bytes,
                                               timeout_s=ctx.config.body_timeout_s)
        try:
            wav = await run_in_threadpool(uploads.decode, path, filename,
                                          max_duration_s=ctx.config.max_duration_s)
            source = path.rename(path.with_name(f"input{path.suffix}"))
            result = await ctx.analyze("restore", TrackAudio(str(source), job, None))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        source.unlink(missing_ok=True)
        _prune(ctx.results_dir, keep=ctx.config.keep_results)
        return {"file": filename, "duration_s": round(wav.duration_s, 3), "id": job,
                "model": result.model, "model_version": result.model_version,
                "clicks": result.summary["clicks"],
                "restored": f"/v1/restorations/{job}/restored.flac"}

    @app.get("/v1/restorations/{job}/restored.flac", tags=["analysis"],
             dependencies=list(ctx.guarded))
    async def restored(job: str) -> FileResponse:
        """The file of an earlier ``/v1/restore`` result."""
        if not (len(job) == 32 and all(c in "0123456789abcdef" for c in job)):
            raise HTTPException(404, "no such restoration")
        path = ctx.results_dir / job / "input" / "restored.flac"
        if not path.is_file():
            raise HTTPException(404, "no such restoration (results are kept for a while)")
        return FileResponse(path, media_type="audio/flac")


def _prune(results_dir: Path, *, keep: int) -> None:
    """Delete all but the ``keep`` newest results (restorations and separations alike)."""
    folders = sorted((p for p in results_dir.iterdir() if p.is_dir() and p.name != "uploads"),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
