"""The HTTP app: analysis with dynamic batching, the catalog's tracks and files, metrics,
and the web page. ``create_app(ServeConfig(...))`` builds it; ``cantata serve`` runs it."""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import fastapi_offline
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from cantata._version import __version__
from cantata.analyzers import TrackAudio, resolve
from cantata.capabilities import CAPABILITIES, load
from cantata.catalog import Catalog
from cantata.serve import auth, peaks, spectrogram
from cantata.serve.batching import QueueFullError
from cantata.serve.config import ServeConfig
from cantata.serve.metrics import Metrics
from cantata.serve.routes import RouteContext
from cantata.serve.routes import lyrics as lyrics_routes
from cantata.serve.services import AnalyzerService

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
DOCS_STATIC = Path(fastapi_offline.__file__).with_name("static")  # Swagger UI and ReDoc
MEDIA_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac",
               ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
               ".m4a": "audio/mp4", ".aac": "audio/aac", ".aif": "audio/aiff",
               ".aiff": "audio/aiff", ".wma": "audio/x-ms-wma"}
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
                ".svg": "image/svg+xml", ".png": "image/png"}
RETRY_AFTER_S = 1
SQLITE_MAX = 2 ** 63 - 1  # SQLite's integers are 64-bit
TrackId = Annotated[int, PathParam(ge=0, le=SQLITE_MAX)]
TagFilter = Annotated[list[str] | None, Query(description="only tracks with this tag present "
                                                   "(repeat: all of them)")]


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
        auth.redact_logs()
        for name in _routed(config):
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
                  description="Singing detection, separation and the catalog over HTTP.",
                  docs_url=None, redoc_url=None, openapi_url=None)  # _add_docs: guarded
    guarded = [Depends(require_token)]

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Response:
        """Refuse other hosts' requests; count every answer, a 500 included."""
        start, status = time.perf_counter(), "500"
        try:
            response = _misdirected(request, config) or await call_next(request)
            status = str(response.status_code)
        finally:
            route = getattr(request.scope.get("route"), "path", "unmatched")
            metrics.requests.labels(request.method, route, status).inc()
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
    for name in _routed(config):
        load(CAPABILITIES[name].routes)(app, context)
    lyrics_routes.add_routes(app, context)  # the server's separator and detector: no service

    @app.get("/v1/tracks", tags=["catalog"], dependencies=guarded)
    def tracks(criteria: Annotated[dict[str, Any], Depends(_criteria)], sort: str = "path",
               desc: bool = False, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """Tracks, filtered (the parameters of ``/v1/facets``), sorted (``sort``, ``desc``),
        paged (``limit``, ``offset``); ``total``: how many match."""
        from cantata.catalog.db import SORT_COLUMNS

        if sort not in SORT_COLUMNS:
            raise HTTPException(422, f"sort must be one of {', '.join(SORT_COLUMNS)}")
        if not 1 <= limit <= 1000 or not 0 <= offset <= SQLITE_MAX:
            raise HTTPException(422, f"limit must be 1..1000 and offset 0..{SQLITE_MAX}")
        catalog = catalogs.get()
        found = catalog.tracks(sort=sort, descending=desc, limit=limit, offset=offset,
                               with_results=True, **criteria)
        return {"total": catalog.count(**criteria), "tracks": [_brief(t) for t in found]}

    @app.get("/v1/facets", tags=["catalog"], dependencies=guarded)
    def facets(criteria: Annotated[dict[str, Any], Depends(_criteria)]) -> dict[str, Any]:
        """Counts per facet value among the tracks ``/v1/tracks`` lists with the same
        filters: ``{"total", "facets": {"status", "grade", "loudness", "vocal_share",
        "duration", "tags", "defect_types", "quality"}}``. A track has one status, grade and
        value of each range: those count the tracks matching the other filters
        (``[{"value", "tracks"}]``; ranges ``[{"min", "max", "tracks"}]``, min included, max
        not, null: open). Tags, defect types and quality findings narrow as they add up:
        those count the tracks matching every filter, most first."""
        return catalogs.get().facets(**criteria)

    @app.get("/v1/tags", tags=["catalog"], dependencies=guarded)
    def tag_facet(criteria: Annotated[dict[str, Any], Depends(_criteria)]) -> dict[str, Any]:
        """The tags present among the tracks ``/v1/tracks`` lists with the same filters, and
        how many tracks have each, most frequent first: ``{"tags": [{"tag", "tracks"}]}``."""
        counts = catalogs.get().tag_counts(**criteria)
        return {"tags": [{"tag": name, "tracks": n} for name, n in counts.items()]}

    @app.get("/v1/tracks/{track_id}", tags=["catalog"], dependencies=guarded)
    def track(track_id: TrackId) -> dict[str, Any]:
        """Everything the catalog knows about a track, with URLs of its audio and stems and
        its quality report (``quality``: the JSON of ``cantata assess``, or null)."""
        from cantata.catalog.quality import quality

        found = _track(catalogs, track_id)
        out = found.to_dict()
        out["quality"] = quality(catalogs.get(), found)
        out["audio_url"] = f"/v1/tracks/{track_id}/audio"
        out["stem_urls"] = {stem: f"/v1/tracks/{track_id}/stems/{stem}"
                            for stem in _stems(found)}
        out["audio_unavailable"] = _unavailable(found)
        return out

    @app.post("/v1/search", tags=["catalog"], dependencies=guarded)
    async def search(request: Request, k: int = 10, start: float = 0.0,
                     duration: float | None = None) -> dict[str, Any]:
        """Query by example, as ``cantata search``: the ``k`` catalog tracks nearest the
        uploaded clip (a multipart ``file`` field or the raw body; ``start``/``duration``
        in seconds pick part of it), best first, each with ``offset_s``, where in the
        track it matches. Needs a catalog scanned with ``--analyzers embed``."""
        if not 1 <= k <= 1000:
            raise HTTPException(422, "k must be 1..1000")
        if start < 0 or (duration is not None and not duration > 0):
            raise HTTPException(422, "start must be >= 0 and duration positive")
        catalogs.get()  # 404 before the upload when there is no catalog
        filename, wav = await context.decoded_upload(request)
        return await run_in_threadpool(_search, catalogs, filename, wav, k, start, duration)

    @app.get("/v1/tracks/{track_id}/similar", tags=["catalog"], dependencies=guarded)
    def similar(track_id: TrackId, k: int = 10, start: float | None = None,
                end: float | None = None) -> dict[str, Any]:
        """The ``k`` other tracks nearest this one by their stored embeddings, best first:
        ``{"track_id", "passage", "results": [{"track_id", "path", "distance", "offset_s",
        ...}]}``; with ``start`` and ``end`` (seconds), nearest that passage."""
        from cantata.embed.query import similar_tracks

        if not 1 <= k <= 1000:
            raise HTTPException(422, "k must be 1..1000")
        if (start is None) != (end is None) or (start is not None and not 0 <= start < end):
            raise HTTPException(422, "give both start and end, 0 <= start < end")
        passage = None if start is None or end is None else (start, end)
        _track(catalogs, track_id)
        with _catalog_errors():
            found = similar_tracks(catalogs.get(), track_id, k=k, passage=passage, keep=True)
        return {"track_id": track_id,
                "passage": None if passage is None else {"start_s": start, "end_s": end},
                "results": _results(found)}

    @app.get("/v1/tracks/{track_id}/audio", tags=["catalog"], dependencies=guarded)
    def track_audio(track_id: TrackId) -> FileResponse:
        """The track's file (byte ranges supported, so players can seek)."""
        return _file(_audio(_track(catalogs, track_id)))

    @app.get("/v1/tracks/{track_id}/stems/{stem}", tags=["catalog"], dependencies=guarded)
    def track_stem(track_id: TrackId, stem: str) -> FileResponse:
        """One of the track's separated stems (byte ranges supported)."""
        stems = _stems(_track(catalogs, track_id))
        if stem not in stems:
            raise HTTPException(404, f"track {track_id} has no stem {stem!r}")
        return _file(Path(stems[stem]))

    @app.get("/v1/tracks/{track_id}/peaks", tags=["catalog"], dependencies=guarded)
    def track_peaks(track_id: TrackId, bins: int = 1000,
                    stem: str | None = None) -> dict[str, Any]:
        """The waveform's envelope for drawing: min and max per bin, mono; of the stem
        ``stem`` when given (the track page's stem rows)."""
        if not 10 <= bins <= 10000:
            raise HTTPException(422, "bins must be 10..10000")
        return peaks.envelope(*_source(_track(catalogs, track_id), stem), bins)

    @app.get("/v1/tracks/{track_id}/spectrogram", tags=["catalog"], dependencies=guarded,
             response_class=Response, responses={200: {"content": {"image/png": {}}}})
    def track_spectrogram(track_id: TrackId, width: int = 1200, height: int = 160,
                          stem: str | None = None) -> Response:
        """The log-mel spectrogram as a PNG of ``width`` x ``height`` pixels (time left to
        right, 30 Hz to 8 kHz bottom to top, 80 dB of range), of the stem ``stem`` when
        given; computed by streaming the audio, cached per file and size."""
        if not 16 <= width <= 4000 or not 16 <= height <= 1000:
            raise HTTPException(422, "width must be 16..4000 and height 16..1000")
        image = spectrogram.spectrogram_png(*_source(_track(catalogs, track_id), stem),
                                            width, height)
        return Response(image, media_type="image/png")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        return _page(request, "index.html", config.token)

    @app.get("/tracks/{track_id}", response_class=HTMLResponse, include_in_schema=False)
    def track_page(request: Request, track_id: TrackId) -> Response:
        return _page(request, "track.html", config.token)

    @app.get("/static/{name}", include_in_schema=False, dependencies=guarded)
    def static(name: str) -> FileResponse:
        return _static(STATIC, name)

    _add_docs(app, guarded, config.token)
    return app


def _criteria(search: str | None = None, status: str | None = None,
              tag: TagFilter = None,
              defect_type: Annotated[list[str] | None, Query(
                  description="only defective tracks with events of this type (repeat: "
                              "of each)")] = None,
              defective: bool = False,
              grade: Annotated[list[str] | None, Query(
                  description="only tracks of this assess grade, A..F (repeat: any)")] = None,
              quality: Annotated[list[str] | None, Query(
                  description="only tracks with this assess finding (repeat: each)")] = None,
              lufs_min: float | None = None, lufs_max: float | None = None,
              vocal_min: float | None = None, vocal_max: float | None = None,
              duration_min: float | None = None,
              duration_max: float | None = None) -> dict[str, Any]:
    """The catalog filters of ``/v1/tracks``, ``/v1/facets`` and ``/v1/tags`` as
    ``TrackFilter`` fields, or 422 saying which is wrong: ``search`` (in the path),
    ``status`` (ok, failed, missing), ``tag``, ``defect_type``, ``defective``, ``grade``,
    ``quality``, and ranges: ``lufs_*`` (integrated loudness), ``vocal_*`` (share of the
    duration sung, 0..1), ``duration_*`` (seconds); min included, max not."""
    from cantata.catalog.db import QUALITY_FILTERS
    from cantata.data.labels import DEFECT_TYPES

    def check(name: str, values: list[str], known: Any) -> None:
        wrong = [v for v in values if v not in known]
        if wrong:
            raise HTTPException(422, f"{name}: unknown {', '.join(map(repr, wrong))}; choose "
                                     f"from {', '.join(known)}")

    check("status", [status] if status is not None else [], ("ok", "failed", "missing"))
    check("grade", grade or [], tuple("ABCDEF"))
    check("quality", quality or [], tuple(QUALITY_FILTERS))
    check("defect_type", defect_type or [], tuple(DEFECT_TYPES))
    ranges = {"lufs": (lufs_min, lufs_max), "vocal": (vocal_min, vocal_max),
              "duration": (duration_min, duration_max)}
    for name, (low, high) in ranges.items():
        if any(v is not None and not math.isfinite(v) for v in (low, high)):
            raise HTTPException(422, f"{name}_min and {name}_max must be finite numbers")
        if low is not None and high is not None and low > high:
            raise HTTPException(422, f"{name}_min ({low:g}) is above {name}_max ({high:g})")
    if any(v is not None and not 0 <= v <= 1 for v in ranges["vocal"]):
        raise HTTPException(422, "vocal_min and vocal_max are shares of the duration, 0..1")
    return {"search": search, "status": status, "tags": tag or (),
            "defect_types": defect_type or (), "defective": defective,
            "grades": grade or (), "quality": quality or (), **ranges}


def _add_docs(app: FastAPI, guarded: list[Any], token: str | None) -> None:
    """The OpenAPI schema and its Swagger UI and ReDoc pages, token-guarded like the API,
    with their scripts served from here (no CDN: they work offline)."""
    assets = "/static/docs"

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> Response:
        return auth.page_gate(request, token) or get_swagger_ui_html(
            openapi_url="/openapi.json", title="Cantata - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> Response:
        return auth.page_gate(request, token) or get_redoc_html(
            openapi_url="/openapi.json", title="Cantata - ReDoc",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False)

    @app.get(f"{assets}/{{name}}", include_in_schema=False, dependencies=guarded)
    def docs_static(name: str) -> FileResponse:
        return _static(DOCS_STATIC, name)


def _static(folder: Path, name: str) -> FileResponse:
    """A file of ``folder`` by its plain name (404 for anything else)."""
    if name not in {p.name for p in folder.iterdir()}:
        raise HTTPException(404, "no such file")
    path = folder / name
    return FileResponse(path, media_type=STATIC_TYPES.get(path.suffix, "text/plain"))


def _misdirected(request: Request, config: ServeConfig) -> Response | None:
    """421 for a request to another host's name (see :func:`auth.check_host`), but
    ``/healthz`` answers any (probes use addresses)."""
    if request.url.path == "/healthz":
        return None
    try:
        auth.check_host(request, config)
    except HTTPException as err:
        return JSONResponse({"detail": err.detail}, err.status_code)
    return None


def _search(catalogs: _Catalogs, filename: str, wav: Any, k: int, start: float,
            duration: float | None) -> dict[str, Any]:
    """``POST /v1/search``'s answer (in a worker thread: embedding takes a while)."""
    from cantata.embed.query import clip, search_clip

    with _catalog_errors():
        query = clip(wav, start, duration)
        found = search_clip(catalogs.get(), query, k=k, keep=True)
    return {"query": {"file": filename, "duration_s": round(query.duration_s, 3),
                      "model_version": found.model_version},
            "results": _results(found.matches)}


def _results(matches: list[Any]) -> list[dict[str, Any]]:
    """Ranked matches, each with ``offset_s``: where in the track it matches."""
    return [{"rank": i + 1, **m.to_dict(), "offset_s": round(m.track_s, 3)}
            for i, m in enumerate(matches)]


@contextmanager
def _catalog_errors() -> Iterator[None]:
    """409 when the catalog holds no embeddings, 422 for other refusals, saying why."""
    from cantata.embed.index import NoEmbeddingsError
    from cantata.errors import CantataError

    try:
        yield
    except NoEmbeddingsError as err:
        raise HTTPException(409, str(err)) from err
    except CantataError as err:
        raise HTTPException(422, str(err)) from err


def _track(catalogs: _Catalogs, track_id: int) -> Any:
    found = catalogs.get().track(track_id)
    if found is None:
        raise HTTPException(404, f"no track {track_id}")
    return found


#: the analyzers whose files the track page plays beside the mix, in this order
PLAYED_STEMS = ("separate", "restore")


def _stems(track: Any) -> dict[str, str]:
    """The track's playable files by name: the separated stems, then a restored copy."""
    out: dict[str, str] = {}
    for analyzer in PLAYED_STEMS:
        result = track.results.get(analyzer)
        if result is not None:
            out.update({k: v for k, v in result.stems.items() if k not in out})
    return out


def _unavailable(track: Any) -> str | None:
    """Why the track's audio cannot be played (None when it can)."""
    name = Path(track.path).name
    if track.missing:
        return (f"{name}: the file is no longer there (missing since the last scan: moved or "
                f"deleted; re-scan the library, or cantata catalog prune forgets it)")
    if not Path(track.path).is_file():
        return f"{name}: the file is no longer there (moved or deleted; re-scan the library)"
    if not track.ok:
        return f"{name}: the file could not be read when scanned ({track.error})"
    return None


def _source(track: Any, stem: str | None) -> tuple[str, str]:
    """The file of the track (``stem`` None) or of one of its stems, and a key of its
    content for caches; 404 saying why when it cannot be had."""
    if stem is None:
        return str(_audio(track)), track.content_hash
    stems = _stems(track)
    if stem not in stems:
        raise HTTPException(404, f"track {track.id} has no stem {stem!r}")
    path = Path(stems[stem])
    if not path.is_file():
        raise HTTPException(404, f"{path.name}: the stem's file is no longer there "
                                 "(moved or deleted since the separation)")
    stat = path.stat()
    return str(path), f"{stat.st_size}:{stat.st_mtime_ns}"


def _audio(track: Any) -> Path:
    """The track's file, or 404 saying why it cannot be had."""
    reason = _unavailable(track)
    if reason is not None:
        raise HTTPException(404, reason)
    return Path(track.path)


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
    """A page; opened as ``?token=``, a redirect that keeps the token in a cookie for the
    page's own requests (:func:`auth.page_gate`)."""
    return auth.page_gate(request, token) or HTMLResponse(
        (STATIC / name).read_text(encoding="utf-8"))


def _routed(config: ServeConfig) -> list[str]:
    """The capabilities with HTTP routes, in registry order: those with a shipped model,
    with a model named in ``config`` (``<capability>_model``), or with no network at all
    (rule-based, such as ``assess``)."""
    return [name for name, cap in CAPABILITIES.items() if cap.routes is not None
            and (cap.shipped or not cap.networks or config.model_for(name) is not None)]
