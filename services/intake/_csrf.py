"""The request form's double-submit token (vaxrec.csrf): its cookie, kept for hours."""

from __future__ import annotations

from aiohttp import web

from vaxrec import csrf

COOKIE = "vaxrec_csrf"
FIELD = csrf.FIELD
#: Long enough to fill in a form slowly; a stale form is shown again with a fresh token.
LIFETIME_S = 4 * 3600


def token_for(request: web.Request) -> str:
    """The browser's token, or a new one (set it on the response with `remember`)."""
    return csrf.token(request.cookies.get(COOKIE, ""))


def remember(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=LIFETIME_S,
        path="/",
        httponly=True,
        secure=request.secure,
        samesite="Strict",
    )


def passes(request: web.Request, submitted: str) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    return csrf.passes(request.headers, request.host, cookie, submitted)
