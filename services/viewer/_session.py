"""A short-lived proof that the PIN was entered, bound to one card.

After the PIN page succeeds, the record page's downloads (the `.smart-health-card` file, the
QR as PNG) must not ask for the PIN again, and must not carry it in a form either. The proof is
an HMAC of (card id, expiry) with the pepper in an HttpOnly, SameSite=Strict cookie scoped to
that card's path; it needs no server-side state and is worthless for any other card.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from vaxrec import csrf

COOKIE = "vaxrec_card"
LIFETIME_S = 600
#: The PIN form's double-submit token (vaxrec.csrf): a forged post would otherwise spend the
#: card's PIN attempts. Browsers mark every POST with Origin and Sec-Fetch-Site; a post with
#: neither is not from a browser, so not a forgery riding on one (scripts post the PIN
#: themselves) and needs no token.
CSRF_COOKIE = "vaxrec_pin_csrf"
CSRF_FIELD = csrf.FIELD


def _mac(pepper: bytes, card_id: str, expires: int) -> str:
    message = f"session:{card_id}:{expires}".encode()
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def issue(pepper: bytes, card_id: str, *, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + LIFETIME_S)
    return f"{expires}.{_mac(pepper, card_id, expires)}"


def valid(pepper: bytes, value: str, card_id: str, *, now: float | None = None) -> bool:
    expires_text, _, mac = value.partition(".")
    if not expires_text.isdigit():
        return False
    expires = int(expires_text)
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(mac, _mac(pepper, card_id, expires))


def csrf_passes(headers: Mapping[str, str], host: str, cookie: str, submitted: str) -> bool:
    """Whether a PIN post may be from this site's own form."""
    site = headers.get("Sec-Fetch-Site")
    origin = headers.get("Origin")
    if site is None and origin is None:
        return True
    if site not in (None, "same-origin"):
        return False
    return csrf.passes(headers, host, cookie, submitted)
