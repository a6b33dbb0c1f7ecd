"""Keyed hashes for PINs and link tokens: the only form in which either is ever stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PIN_SALT_BYTES = 16


def new_pin_salt() -> bytes:
    return secrets.token_bytes(PIN_SALT_BYTES)


def pin_hash(pepper: bytes, salt: bytes, pin: str) -> bytes:
    """HMAC-SHA-256(pepper, salt || PIN).

    A slow hash buys nothing over a 10,000-value space; the pepper (never in the database)
    and the attempt limit are what protect the PIN.
    """
    return hmac.new(pepper, b"pin:" + salt + pin.encode("ascii"), hashlib.sha256).digest()


def pin_matches(pepper: bytes, salt: bytes, pin: str, expected: bytes) -> bool:
    return hmac.compare_digest(pin_hash(pepper, salt, pin), expected)


def new_link_token() -> str:
    """256 random bits, base64url without padding (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(pepper: bytes, token: str) -> bytes:
    return hmac.new(pepper, b"link:" + token.encode("ascii"), hashlib.sha256).digest()
