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

from cantata.analyzers import Result, TrackAudio
from cantata.serve.config import ServeConfig


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

    @property
    def max_bytes(self) -> int:
        return int(self.config.max_upload_mb * 1e6)
