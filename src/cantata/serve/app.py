"""The HTTP app: analysis with dynamic batching, the catalog's tracks and files, metrics,
and the web page. ``create_app(ServeConfig(...))`` builds it; ``cantata serve`` runs it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from cantata._version import __version__
from cantata.analyzers import TrackAudio, resolve
from cantata.capabilities import CAPABILITIES, load
from cantata.catalog import Catalog
from cantata.serve import auth, peaks
from cantata.serve.batching import QueueFullError
from cantata.serve.config import ServeConfig
from cantata.serve.metrics import Metrics
from cantata.serve.routes import RouteContext
from cantata.serve.services import AnalyzerService

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
MEDIA_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac",
               ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
               ".m4a": "audio/mp4", ".aac": "audio/aac", ".aif": "audio/aiff",
               ".aiff": "audio/aiff", ".wma": "audio/x-ms-wma"}
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
                ".svg": "image/svg+xml"}
RETRY_AFTER_S = 1


class _Catalogs(threading.local):
    """One catalog connection per server thread (SQLite connections are not shared)."""

    def __init__(self, db: Path | None) -> None:
        self.db, self.catalog = db, None

    def get(self) -> Catalog:
        if self.db is None:
            raise HTTPException(404, "this server has no catalog (start it with --db)")
        if self.catalog is None:
            self.catalog = Catalog(self.db, create=False)
        return self.catalog


def create_app(config: ServeConfig) -> FastAPI:
    """The app; models load when it starts (uvicorn's lifespan)."""
    metrics = Metrics()
    catalogs = _Catalogs(config.db)
    if config.db is not None:
        Catalog(config.db, create=False).close()  # fail now, not on the first request
    services: dict[str, AnalyzerService] = {}
    results_dir = config.results_dir or Path(tempfile.mkdtemp(prefix="cantata-serve-"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for name in _routed():
            spec = resolve([f"{name}={config.model_for(name) or ''}"])[0]
            services[name] = AnalyzerService(spec, config.batching_for(name), metrics,
                                             files_dir=results_dir)
        for service in services.values():
            await service.batcher.start()
        yield
        for service in services.values():
            await service.batcher.stop()
        if config.results_dir is None:
            shutil.rmtree(results_dir, ignore_errors=True)

    def require_token(request: Request) -> None:
        auth.check(request, config.token)

    app = FastAPI(title="Cantata", version=__version__, lifespan=lifespan,
                  description="Singing detection, separation and the catalog over HTTP.")
    guarded = [Depends(require_token)]

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - start)
        return response

    @app.exception_handler(Exception)
    async def internal_error(request: Request, err: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"detail": "internal error (see the server's log)"}, 500)

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict[str, Any]:
        """Liveness: 200 once the models are loaded. Needs no token."""
        return {"status": "ok", "version": __version__,
                "models": {name: s.spec.model_version for name, s in services.items()}}

    @app.get("/metrics", tags=["service"], dependencies=guarded)
    async def prometheus() -> Response:
        """Request counts, latency histograms, batch sizes and queue depth."""
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    async def analyze(name: str, item: TrackAudio) -> Any:
        service = services[name]
        try:
            return await asyncio.wait_for(service.batcher.submit(item), config.timeout_s)
        except QueueFullError as err:
            service.rejected.inc()
            raise HTTPException(503, f"busy: {err}; retry shortly",
                                headers={"Retry-After": str(RETRY_AFTER_S)}) from err
        except TimeoutError as err:
            raise HTTPException(504, f"no result within {config.timeout_s:.0f} s") from err

    context = RouteContext(config, analyze, results_dir, guarded)
    for name in _routed():
        load(CAPABILITIES[name].routes)(app, context)

    @app.get("/v1/tracks", tags=["catalog"], dependencies=guarded)
    def tracks(search: str | None = None, status: str | None = None, sort: str = "path",
               desc: bool = False, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """Tracks, filtered (``search`` in the path, ``status`` ok|failed), sorted, paged."""
        from cantata.catalog.db import SORT_COLUMNS

        if sort not in SORT_COLUMNS:
            raise HTTPException(422, f"sort must be one of {', '.join(SORT_COLUMNS)}")
        if not 1 <= limit <= 1000 or offset < 0:
            raise HTTPException(422, "limit must be 1..1000 and offset >= 0")
        catalog = catalogs.get()
        found = catalog.tracks(status=status, search=search, sort=sort, descending=desc,
                               limit=limit, offset=offset, with_results=True)
        return {"total": catalog.count(status=status, search=search),
                "tracks": [_brief(t) for t in found]}

    @app.get("/v1/tracks/{track_id}", tags=["catalog"], dependencies=guarded)
    def track(track_id: int) -> dict[str, Any]:
        """Everything the catalog knows about a track, with URLs of its audio and stems."""
        found = _track(catalogs, track_id)
        out = found.to_dict()
        out["audio_url"] = f"/v1/tracks/{track_id}/audio"
        out["stem_urls"] = {stem: f"/v1/tracks/{track_id}/stems/{stem}"
                            for stem in _stems(found)}
        return out

    @app.get("/v1/tracks/{track_id}/audio", tags=["catalog"], dependencies=guarded)
    def track_audio(track_id: int) -> FileResponse:
        """The track's file (byte ranges supported, so players can seek)."""
        return _file(Path(_track(catalogs, track_id).path))

    @app.get("/v1/tracks/{track_id}/stems/{stem}", tags=["catalog"], dependencies=guarded)
    def track_stem(track_id: int, stem: str) -> FileResponse:
        """One of the track's separated stems (byte ranges supported)."""
        stems = _stems(_track(catalogs, track_id))
        if stem not in stems:
            raise HTTPException(404, f"track {track_id} has no stem {stem!r}")
        return _file(Path(stems[stem]))

    @app.get("/v1/tracks/{track_id}/peaks", tags=["catalog"], dependencies=guarded)
    def track_peaks(track_id: int, bins: int = 1000) -> dict[str, Any]:
        """The waveform's envelope for drawing: min and max per bin, mono."""
        if not 10 <= bins <= 10000:
            raise HTTPException(422, "bins must be 10..10000")
        found = _track(catalogs, track_id)
        return peaks.envelope(found.path, found.content_hash, bins)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        return _page(request, "index.html", config.token)

    @app.get("/tracks/{track_id}", response_class=HTMLResponse, include_in_schema=False)
    def track_page(request: Request, track_id: int) -> Response:
        return _page(request, "track.html", config.token)

    @app.get("/static/{name}", include_in_schema=False, dependencies=guarded)
    def static(name: str) -> FileResponse:
        if name not in {p.name for p in STATIC.iterdir()}:
            raise HTTPException(404, "no such file")
        path = STATIC / name
        return FileResponse(path, media_type=STATIC_TYPES.get(path.suffix, "text/plain"))

    return app


def _track(catalogs: _Catalogs, track_id: int) -> Any:
    found = catalogs.get().track(track_id)
    if found is None:
        raise HTTPException(404, f"no track {track_id}")
    return found


def _stems(track: Any) -> dict[str, str]:
    result = track.results.get("separate")
    return dict(result.stems) if result is not None else {}


def _file(path: Path) -> FileResponse:
    if not path.is_file():
        raise HTTPException(404, f"{path.name}: the file is no longer there (re-scan?)")
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix.lower(),
                                                         "application/octet-stream"))


def _brief(track: Any) -> dict[str, Any]:
    """A track for the list: its facts and each result's summary, without regions."""
    out = {k: v for k, v in track.to_dict().items() if k != "results"}
    out["results"] = {name: {"model": r.model, "model_version": r.model_version,
                             "summary": r.summary, "stems": sorted(r.stems)}
                      for name, r in track.results.items()}
    return out


def _page(request: Request, name: str, token: str | None) -> Response:
    """A page; ``?token=`` (checked) is kept in a cookie for the page's own requests."""
    auth.check(request, token)
    response = HTMLResponse((STATIC / name).read_text(encoding="utf-8"))
    if token is not None and request.query_params.get("token"):
        response.set_cookie(auth.COOKIE, token, httponly=True, samesite="strict")
    return response


def _routed() -> list[str]:
    """The capabilities with HTTP routes, in registry order."""
    return [name for name, cap in CAPABILITIES.items() if cap.routes is not None]
