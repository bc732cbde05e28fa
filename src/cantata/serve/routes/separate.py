"""``POST /v1/separate``: stems of uploaded audio, kept for download for a while."""

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
    """``POST /v1/separate`` and ``GET /v1/separations/{job}/{stem}.flac``."""

    @app.post("/v1/separate", tags=["analysis"], dependencies=list(ctx.guarded))
    async def separate(request: Request) -> dict[str, Any]:
        """Vocal and accompaniment stems of uploaded audio, as FLAC files to download from
        the returned URLs (the most recent results are kept)."""
        job = uuid.uuid4().hex
        folder = ctx.results_dir / job
        path, filename = await uploads.receive(request, folder, max_bytes=ctx.max_bytes,
                                               timeout_s=ctx.config.body_timeout_s)
        try:
            wav = await run_in_threadpool(uploads.decode, path, filename,
                                          max_duration_s=ctx.config.max_duration_s)
            source = path.rename(path.with_name(f"input{path.suffix}"))
            result = await ctx.analyze("separate", TrackAudio(str(source), job, None))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        source.unlink(missing_ok=True)
        _prune(ctx.results_dir, keep=ctx.config.keep_results)
        return {"file": filename, "duration_s": round(wav.duration_s, 3), "id": job,
                "model": result.model, "model_version": result.model_version,
                "stems": {stem: f"/v1/separations/{job}/{stem}.flac" for stem in result.stems}}

    @app.get("/v1/separations/{job}/{stem}.flac", tags=["analysis"],
             dependencies=list(ctx.guarded))
    async def separation_stem(job: str, stem: str) -> FileResponse:
        """A stem of an earlier ``/v1/separate`` result."""
        if not (len(job) == 32 and all(c in "0123456789abcdef" for c in job)
                and stem.isidentifier()):
            raise HTTPException(404, "no such separation")
        path = ctx.results_dir / job / "input" / f"{stem}.flac"
        if not path.is_file():
            raise HTTPException(404, "no such separation (results are kept for a while)")
        return FileResponse(path, media_type="audio/flac")


def _prune(results_dir: Path, *, keep: int) -> None:
    """Delete all but the ``keep`` newest separation results."""
    folders = sorted((p for p in results_dir.iterdir() if p.is_dir() and p.name != "uploads"),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
