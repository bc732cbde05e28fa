"""Reading uploaded audio safely: size, type and decode checks, each a clear 4xx."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from cantata import audio
from cantata.errors import CantataError
from cantata.types import Waveform

CHUNK = 1 << 20
FORM_OVERHEAD = 64_000  # a multipart form's headers and boundaries, beyond the file itself
CLOSE = {"Connection": "close"}  # the rest of the body is not read: do not wait for it
ACCEPTED_TYPES = ("audio/", "application/octet-stream", "video/ogg", "video/mp4",
                  "video/webm")


def check_type(content_type: str | None) -> None:
    """415 unless the declared type is audio (or unspecific bytes)."""
    kind = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if not kind.startswith(ACCEPTED_TYPES):
        raise HTTPException(415, f"unsupported content type {kind!r}: send audio (e.g. "
                                 "audio/mpeg, audio/wav) or application/octet-stream",
                            headers=CLOSE)


async def receive(request: Request, scratch: Path, *, max_bytes: int,
                  timeout_s: float) -> tuple[Path, str]:
    """Save the request's audio to a file in ``scratch``: a multipart form's ``file``
    field, or the raw body. The body is read only up to the limit, chunked or not, and
    the partial file is deleted on any error. Returns (path, the client's file name).

    Raises:
        HTTPException: 408 no data for ``timeout_s``, 413 too large, 415 not audio,
            422 no file.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise HTTPException(413, f"upload of {int(declared)} bytes is over the limit of "
                                 f"{max_bytes} bytes", headers=CLOSE)
    request = Request(request.scope, _guarded(request.receive, max_bytes, timeout_s))
    scratch.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=scratch, suffix=".upload")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                filename, part_type, size = await _save_form(request, f, max_bytes)
            else:
                filename, part_type, size = await _save_body(request, f, max_bytes)
        if size == 0:
            raise HTTPException(422, "the upload is empty")
        path = path.rename(path.with_suffix(_suffix(filename, part_type)))
        return path, Path(filename).name
    except BaseException:
        path.unlink(missing_ok=True)
        raise


async def _save_form(request: Request, f: BinaryIO, max_bytes: int) -> tuple[str, str, int]:
    """Write a multipart form's ``file`` field to ``f``: (file name, type, size)."""
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, "the form has no 'file' field with audio")
    check_type(upload.content_type)
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        _check_size(size, max_bytes)
        f.write(chunk)
    return upload.filename or "upload", upload.content_type or "", size


async def _save_body(request: Request, f: BinaryIO, max_bytes: int) -> tuple[str, str, int]:
    """Write the raw body to ``f``: (``X-Filename``, type, size)."""
    kind = request.headers.get("content-type", "")
    check_type(kind)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        _check_size(size, max_bytes)
        f.write(chunk)
    return request.headers.get("x-filename", "upload"), kind, size


def decode(path: Path, filename: str, *, max_duration_s: float) -> Waveform:
    """The uploaded audio, decoded. Raises HTTPException 413 (too long) or 422 (not
    decodable), naming the client's file."""
    try:
        header = audio.info(path)
        if header.duration_s > max_duration_s:
            raise HTTPException(413, f"{filename}: {header.duration_s:.0f} s of audio is over "
                                     f"the limit of {max_duration_s:.0f} s")
        wav = audio.load(path)
    except CantataError as err:
        problem = str(err).replace(f"{path}: ", "")
        raise HTTPException(422, f"{filename}: {problem}") from err
    if wav.duration_s > max_duration_s:
        raise HTTPException(413, f"{filename}: {wav.duration_s:.0f} s of audio is over the "
                                 f"limit of {max_duration_s:.0f} s")
    return wav


TYPE_SUFFIXES = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav",
                 "audio/flac": ".flac", "audio/x-flac": ".flac", "audio/mpeg": ".mp3",
                 "audio/mp3": ".mp3", "audio/ogg": ".ogg", "audio/opus": ".opus",
                 "audio/mp4": ".m4a", "audio/aac": ".aac"}


def _suffix(filename: str, content_type: str | None) -> str:
    """A suffix for the saved upload (the decoders pick by it): the client's file name's
    when it is a plain one, else the content type's, else none (FFmpeg probes)."""
    suffix = Path(filename).suffix.lower()
    if 1 < len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    kind = (content_type or "").split(";")[0].strip().lower()
    return TYPE_SUFFIXES.get(kind, ".bin")


def _check_size(size: int, max_bytes: int, *, shown: int | None = None) -> None:
    if size > max_bytes:
        limit = max_bytes if shown is None else shown
        raise HTTPException(413, f"upload is over the limit of {limit} bytes",
                            headers=CLOSE)


def _guarded(receive: Receive, max_bytes: int, timeout_s: float) -> Receive:
    """``receive`` that stops the body past ``max_bytes`` and a form's overhead (413) and
    waits at most ``timeout_s`` for each piece of it (408); both close the connection."""
    size = 0

    async def guarded() -> Message:
        nonlocal size
        try:
            message = await asyncio.wait_for(receive(), timeout_s)
        except TimeoutError as err:
            raise HTTPException(408, f"no data for {timeout_s:g} s: the upload is abandoned",
                                headers=CLOSE) from err
        size += len(message.get("body", b""))
        _check_size(size, max_bytes + FORM_OVERHEAD, shown=max_bytes)
        return message

    return guarded
