"""Double-submit CSRF tokens for the server-rendered forms (intake's request form, the viewer's
PIN form).

The page sets a random token in a SameSite=Strict, HttpOnly cookie and repeats it in a hidden
field; a post counts only when both arrive and match. Another site can make a browser post the
form, but can neither read the cookie to copy it into the field nor set one for this origin. It
needs no server state, so any replica accepts any replica's form.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

FIELD = "csrf"
_TOKEN_CHARS = 43  # secrets.token_urlsafe(32)


def token(current: str) -> str:
    """The browser's token (its cookie), or a new one when it has none."""
    return current if len(current) == _TOKEN_CHARS else secrets.token_urlsafe(32)


def same_origin(headers: Mapping[str, str], host: str) -> bool:
    # A real Origin must name this host. The scheme is not compared: behind a TLS-terminating
    # proxy the service sees http. Under Referrer-Policy: no-referrer, Chromium sends
    # "Origin: null" even from this very page, so "null" is left to the token to decide.
    origin = headers.get("Origin")
    return origin in (None, "null") or urlsplit(origin).netloc == host


def passes(headers: Mapping[str, str], host: str, cookie: str, submitted: str) -> bool:
    """Whether a post may come from this site's own form."""
    if len(cookie) != _TOKEN_CHARS or not same_origin(headers, host):
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())
