"""The optional bearer token: a header for programs, a cookie for the browser page."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

COOKIE = "cantata_token"


def presented(request: Request) -> str | None:
    """The token a request carries: ``Authorization: Bearer``, the cookie, or ``?token=``."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE) or request.query_params.get("token")


def check(request: Request, token: str | None) -> None:
    """Raise 401 unless no token is configured or the request presents it."""
    if token is None:
        return
    given = presented(request)
    if given is None or not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(401, "missing or wrong bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
