"""Cross-site request forgery protection for the form: a double-submit token.

The form page sets a random token in a SameSite=Strict, HttpOnly cookie and repeats it in a
hidden field; a post counts only when both arrive and match. Another site can make a browser
post the form, but can neither read the cookie to copy it into the field nor set one for this
origin. It needs no server state, so any intake replica accepts any replica's form.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web

COOKIE = "vaxrec_csrf"
FIELD = "csrf"
#: Long enough to fill in a form slowly; a stale form is shown again with a fresh token.
LIFETIME_S = 4 * 3600


def token_for(request: web.Request) -> str:
    """The browser's token, or a new one (set it on the response with `remember`)."""
    current = request.cookies.get(COOKIE, "")
    return current if len(current) == 43 else secrets.token_urlsafe(32)


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


def _same_origin(request: web.Request) -> bool:
    # A real Origin must name this host. The scheme is not compared: behind a TLS-terminating
    # proxy this process sees http. Under Referrer-Policy: no-referrer, Chromium sends
    # "Origin: null" even from this very page, so "null" is left to the token to decide.
    origin = request.headers.get("Origin")
    return origin in (None, "null") or urlsplit(origin).netloc == request.host


def passes(request: web.Request, submitted: str) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    if len(cookie) != 43 or not _same_origin(request):
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())
