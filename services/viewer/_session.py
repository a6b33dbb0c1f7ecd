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

COOKIE = "vaxrec_card"
LIFETIME_S = 600


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
