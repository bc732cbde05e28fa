"""Each capability's analysis routes, added to the app by the capability registry.

A capability with HTTP routes has a module here with ``add_routes(app, ctx)`` and names it
in its registry entry (``routes``); :func:`cantata.serve.app.create_app` starts one batched
analyzer service per such capability and calls ``add_routes`` with a :class:`RouteContext`.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from cantata.analyzers import Result, TrackAudio
from cantata.serve import uploads
from cantata.serve.config import ServeConfig
from cantata.types import Waveform


@dataclass(frozen=True)
class RouteContext:
    """What a capability's routes need from the app.

    Attributes:
        config: the server's settings.
        analyze: ``await analyze(capability, item)`` -> the capability's :class:`Result`
            (batched with other requests; 503 when busy, 504 on time-out).
        results_dir: where uploads and results files go.
        guarded: the dependencies that check the token.
    """

    config: ServeConfig
    analyze: Callable[[str, TrackAudio], Awaitable[Result]]
    results_dir: Path
    guarded: Sequence[Any]

    async def decoded_upload(self, request: Request) -> tuple[str, Waveform]:
        """(file name, audio) of an upload held in memory, its temporary file removed
        (413 beyond the size or duration limits, 408 when the body stalls, 415/422 when it
        is not audio)."""
        path, filename = await uploads.receive(request, self.results_dir / "uploads",
                                               max_bytes=self.max_bytes,
                                               timeout_s=self.config.body_timeout_s)
        try:
            wav = await run_in_threadpool(uploads.decode, path, filename,
                                          max_duration_s=self.config.max_duration_s)
        finally:
            path.unlink(missing_ok=True)
        return filename, wav

    async def analyzed_job(self, request: Request, capability: str
                           ) -> tuple[str, str, Waveform, Result]:
        """(job id, file name, audio, result) of an upload analyzed in a job folder of its
        own, for analyzers that write files there (stems, restored copies): the folder is
        removed when anything fails, the upload once analyzed, and only the newest
        ``keep_results`` job folders are kept."""
        job = uuid.uuid4().hex
        folder = self.results_dir / job
        path, filename = await uploads.receive(request, folder, max_bytes=self.max_bytes,
                                               timeout_s=self.config.body_timeout_s)
        try:
            wav = await run_in_threadpool(uploads.decode, path, filename,
                                          max_duration_s=self.config.max_duration_s)
            source = path.rename(path.with_name(f"input{path.suffix}"))
            result = await self.analyze(capability, TrackAudio(str(source), job, None))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        source.unlink(missing_ok=True)
        self.prune()
        return job, filename, wav, result

    def job_file(self, job: str, name: str, what: str) -> Path:
        """The file ``name`` of an earlier job's results (404 for a malformed job id or
        name, or a result no longer kept; ``what`` names the kind of result)."""
        if not (len(job) == 32 and all(c in "0123456789abcdef" for c in job)
                and name.replace(".", "_").isidentifier()):
            raise HTTPException(404, f"no such {what}")
        path = self.results_dir / job / "input" / name
        if not path.is_file():
            raise HTTPException(404, f"no such {what} (results are kept for a while)")
        return path

    def prune(self) -> None:
        """Delete all but the ``keep_results`` newest job folders."""
        folders = sorted((p for p in self.results_dir.iterdir()
                          if p.is_dir() and p.name != "uploads"),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in folders[self.config.keep_results:]:
            shutil.rmtree(old, ignore_errors=True)

    @property
    def max_bytes(self) -> int:
        return int(self.config.max_upload_mb * 1e6)
