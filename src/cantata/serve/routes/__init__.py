"""Each capability's analysis routes, added to the app by the capability registry.

A capability with HTTP routes has a module here with ``add_routes(app, ctx)`` and names it
in its registry entry (``routes``); :func:`cantata.serve.app.create_app` starts one batched
analyzer service per such capability and calls ``add_routes`` with a :class:`RouteContext`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
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

    @property
    def max_bytes(self) -> int:
        return int(self.config.max_upload_mb * 1e6)
