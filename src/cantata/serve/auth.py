"""Who may ask: the optional bearer token (a header for programs, a cookie for the browser,
taken once from a page's URL), and, without a token, only requests addressed to this server
by name (a DNS rebinding defence). Tokens never reach the access log."""

from __future__ import annotations

import hmac
import logging
import re

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from cantata.serve.config import ServeConfig

COOKIE = "cantata_token"
QUERY_TOKEN = re.compile(r"(?i)([?&]token=)[^&#\s\"]*")
LOGGERS = ("uvicorn.access", "uvicorn.error")


def presented(request: Request) -> str | None:
    """The token a request carries: ``Authorization: Bearer`` or the cookie (never the
    URL: see :func:`page_gate`)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def check(request: Request, token: str | None) -> None:
    """Raise 401 unless no token is configured or the request presents it."""
    if token is None:
        return
    _compare(presented(request), token)


def page_gate(request: Request, token: str | None) -> Response | None:
    """For a page: None to show it (401 without the token). Opened as ``?token=``, the
    token is checked and the answer is a redirect to the same URL without it, setting the
    cookie the page's scripts then use."""
    given = request.query_params.get("token")
    if token is None or given is None:
        check(request, token)
        return None
    _compare(given, token)
    url = request.url.remove_query_params("token")
    response = RedirectResponse(url.path + (f"?{url.query}" if url.query else ""), 303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
    return response


def check_host(request: Request, config: ServeConfig) -> None:
    """Raise 421 when no token is set and the ``Host`` header names another server."""
    if config.token is not None:
        return
    host = request.headers.get("host", "")
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not name or (port and not port.isdigit()):
        name, port = host, ""
    if not config.host_allowed(name.strip("[]"), int(port) if port else None):
        raise HTTPException(421, f"this server does not answer for host {host!r} (set a "
                                 "token, or allow the name with --allow-host)")


def redact(text: str) -> str:
    """``text`` with the value of any ``token=`` query parameter hidden."""
    return QUERY_TOKEN.sub(r"\1<redacted>", text)


class RedactToken(logging.Filter):
    """Hides ``token=`` values in the arguments of log records (uvicorn's access log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        return True


REDACT = RedactToken()


def redact_logs() -> None:
    """Add the filter to uvicorn's loggers (once)."""
    for name in LOGGERS:
        logging.getLogger(name).addFilter(REDACT)


def _compare(given: str | None, token: str) -> None:
    if given is None or not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(401, "missing or wrong bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
