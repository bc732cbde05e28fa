"""``POST /v1/lyrics``: a time for every line and word of uploaded lyrics in an uploaded song.

The alignment is :class:`cantata.lyrics.LyricsAligner`'s, as ``cantata lyrics align`` runs
it, with the server's separator and singing detector (``--separate-model``,
``--detect-model``), loaded when the server starts. Requests wait in a batcher of their own
(the server's batching settings: its queue limit answers 503 when full) and run one at a
time on its worker thread.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from cantata.errors import CantataError
from cantata.lyrics.text import parse_lyrics
from cantata.serve import uploads
from cantata.serve.batching import DynamicBatcher, QueueFullError
from cantata.serve.routes import RouteContext
from cantata.types import Waveform

#: the longest lyrics text accepted (bytes of UTF-8)
MAX_LYRICS_BYTES = 200_000
#: an ISO 639-1 code, optionally with a region: en, de, pt_BR, pt-BR
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?")
RETRY_AFTER_S = 1


@dataclass(frozen=True)
class _Job:
    """One request: the client's file name, its audio, its lyrics and their language."""

    filename: str
    wav: Waveform
    lyrics: str
    language: str | None


def add_routes(app: FastAPI, ctx: RouteContext) -> None:
    """``POST /v1/lyrics``; the aligner loads and its batcher starts with the app."""
    aligner: list[Any] = []  # the LyricsAligner, once the app has started

    def run(jobs: list[_Job]) -> Sequence[dict[str, Any] | BaseException]:
        return [_align(aligner[0], job) for job in jobs]

    batcher: DynamicBatcher[_Job, dict[str, Any]] = DynamicBatcher(
        run, ctx.config.batching_for("lyrics"))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        from cantata.lyrics.api import LyricsAligner

        async with outer(app) as state:
            aligner.append(LyricsAligner.from_pretrained(
                separator=ctx.config.separate_model, detector=ctx.config.detect_model))
            await batcher.start()
            try:
                yield state
            finally:
                await batcher.stop()

    app.router.lifespan_context = lifespan

    @app.post("/v1/lyrics", tags=["analysis"], dependencies=list(ctx.guarded))
    async def lyrics(request: Request) -> dict[str, Any]:
        """Time-stamped lyrics of an uploaded song, in the JSON of ``cantata lyrics align
        --format json``: a multipart form with the song as ``file``, the lyrics (plain text
        or LRC, UTF-8) as ``lyrics`` and optionally their ``language`` (ISO 639-1: en, de,
        ...; default: syllables by vowel groups). Answers ``{"file", "language", "lines":
        [{"text", "start", "end", "words": [{"text", "start", "end"}]}]}``."""
        job = await _receive(request, ctx)
        try:
            return await asyncio.wait_for(batcher.submit(job), ctx.config.timeout_s)
        except QueueFullError as err:
            raise HTTPException(503, f"busy: {err}; retry shortly",
                                headers={"Retry-After": str(RETRY_AFTER_S)}) from err
        except TimeoutError as err:
            raise HTTPException(504, f"no result within {ctx.config.timeout_s:.0f} s") \
                from err


def _align(aligner: Any, job: _Job) -> dict[str, Any] | BaseException:
    """The CLI's JSON of one job, or a 422 saying why it cannot be aligned."""
    try:
        found = aligner.align(job.wav, job.lyrics, language=job.language)
    except CantataError as err:
        return HTTPException(422, f"{job.filename}: {err}")
    return {**found.to_dict(), "file": job.filename}


async def _receive(request: Request, ctx: RouteContext) -> _Job:
    """The form's song (decoded; the upload limits of every route), lyrics and language,
    each checked: 415 for anything but a multipart form, 422 for a missing or empty field,
    lyrics that are not UTF-8 or hold no words, or audio that does not decode."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send a multipart form: the song as 'file', the lyrics as "
                                 "'lyrics' (and optionally their 'language')")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > ctx.max_bytes + uploads.FORM_OVERHEAD:
        raise HTTPException(413, f"upload of {int(declared)} bytes is over the limit of "
                                 f"{ctx.max_bytes} bytes", headers=uploads.CLOSE)
    guarded = Request(request.scope, uploads._guarded(request.receive, ctx.max_bytes,
                                                      ctx.config.body_timeout_s))
    form = await guarded.form(max_files=2, max_fields=4)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "the form has no 'file' field with audio")
        filename = Path(upload.filename or "upload").name
        text = await _lyrics(form, filename)
        language = _language(form)
        uploads.check_type(upload.content_type)
        path = await _save(upload, ctx, filename)
    finally:
        await form.close()
    try:
        wav = await run_in_threadpool(uploads.decode, path, filename,
                                      max_duration_s=ctx.config.max_duration_s)
    finally:
        path.unlink(missing_ok=True)
    return _Job(filename, wav, text, language)


async def _lyrics(form: FormData, filename: str) -> str:
    """The ``lyrics`` field's text (a plain field or a file), with words in it."""
    field = form.get("lyrics")
    if field is None:
        raise HTTPException(422, "the form has no 'lyrics' field (the lyrics' text)")
    data = await field.read(MAX_LYRICS_BYTES + 1) if isinstance(field, UploadFile) \
        else field.encode("utf-8")
    if len(data) > MAX_LYRICS_BYTES:
        raise HTTPException(413, f"the lyrics are over the limit of {MAX_LYRICS_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise HTTPException(422, "the lyrics are not UTF-8 text") from err
    if not parse_lyrics(text):
        raise HTTPException(422, f"{filename}: the lyrics hold no words to align (empty, or "
                                 "only tags and section markers)")
    return text


def _language(form: FormData) -> str | None:
    """The ``language`` field (None when absent or blank); 422 unless a language code."""
    value = form.get("language")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not LANGUAGE.fullmatch(value.strip()):
        raise HTTPException(422, f"language must be an ISO 639-1 code such as en, de or pt_BR, "
                                 f"not {str(value)[:40]!r}")
    return value.strip()


async def _save(upload: UploadFile, ctx: RouteContext, filename: str) -> Path:
    """The uploaded song in a file of the server's scratch folder (422 when empty)."""
    scratch = ctx.results_dir / "uploads"
    scratch.mkdir(parents=True, exist_ok=True)
    suffix = uploads._suffix(filename, upload.content_type)
    with tempfile.NamedTemporaryFile(dir=scratch, suffix=suffix, delete=False) as f:
        path, size = Path(f.name), 0
        try:
            while chunk := await upload.read(uploads.CHUNK):
                size += len(chunk)
                uploads._check_size(size, ctx.max_bytes)
                f.write(chunk)
            if size == 0:
                raise HTTPException(422, f"{filename}: the upload is empty")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return path
