"""A verification as people and programs read it: one sentence per reason, and a JSON shape.

The CLI and the viewer's /verify page both show these, so the two never disagree.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from vaxrec.shc._verify import Verification

REASONS: dict[str, str] = {
    "malformed": "This is not a well-formed SMART Health Card.",
    "bom": "The card's content starts with a byte-order mark, which the format forbids.",
    "too-large": "The card is larger than a SMART Health Card may be.",
    "not-deflated": "The card's content is not compressed as the format requires.",
    "zlib-wrapped": "The card's content is compressed with a zlib wrapper instead of raw DEFLATE.",
    "alg-not-es256": "The card is not signed with ES256 (for example 'alg: none').",
    "unknown-kid": "The issuer publishes no key with the id that signed this card.",
    "bad-iss": "The card names its issuer with an address that is not https.",
    "untrusted-issuer": "The card's issuer is not one this verifier trusts.",
    "thumbprint-mismatch": "The issuer's key does not match its key id.",
    "bad-key": "The issuer's key is not a P-256 ES256 signing key.",
    "keys-unavailable": "The issuer's keys could not be fetched.",
    "bad-signature": "The signature does not match: the card was altered or signed by another.",
    "der-signature": "The signature is DER-encoded instead of the required 64-byte form.",
    "bad-nbf": "The card has no valid issue time.",
    "nbf-in-milliseconds": "The card's issue time is in milliseconds instead of seconds.",
    "nbf-in-future": "The card's issue time is in the future.",
    "bad-exp": "The card's expiry time is not valid.",
    "expired": "The card has expired.",
    "no-health-card-type": "The credential does not say it is a SMART Health Card.",
    "revoked": "The issuer has revoked this card.",
    "crl-unavailable": "The issuer's revocation list could not be read.",
    "crl-stale": "The issuer's revocation list is older than its key says it should be.",
    "qr-malformed": "The QR code's text is not a SMART Health Card.",
    "qr-chunk-mismatch": "The QR code parts do not belong together.",
    "qr-incomplete": "Some parts of a multi-part QR code are missing.",
    "unreadable-input": "This is not a shc:/ text, a .smart-health-card file or a JWS.",
    "not-an-image": "The picture could not be read.",
    "image-too-large": "The picture is too large.",
    "no-qr-found": "No SMART Health Card QR code was found in the picture.",
}


def reason_text(code: str) -> str:
    """The sentence for a reason code (the code itself for one this table does not know)."""
    return REASONS.get(code, code)


def _epoch(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    except (OverflowError, OSError, ValueError):
        return None


def as_json(result: Verification, *, issuer_name: str | None = None) -> dict[str, Any]:
    """The verdict for machines: valid, reasons with their sentences, who, which doses."""
    payload = result.payload or {}
    return {
        "valid": result.valid,
        "verdict": "valid" if result.valid else "invalid",
        "reasons": [{"code": c, "text": reason_text(c)} for c in result.reasons],
        "issuer": result.issuer,
        "issuer_name": issuer_name,
        "kid": result.kid,
        "issued_at": _epoch(payload.get("nbf")),
        "expires_at": _epoch(payload.get("exp")),
        "person": asdict(result.patient) if result.patient else None,
        "doses": [asdict(d) for d in result.doses],
    }


def unreadable_json(code: str) -> dict[str, Any]:
    """The verdict, in `as_json`'s shape, for an input that held no card to verify."""
    return {
        "valid": False,
        "verdict": "invalid",
        "reasons": [{"code": code, "text": reason_text(code)}],
        "issuer": None,
        "issuer_name": None,
        "kid": None,
        "issued_at": None,
        "expires_at": None,
        "person": None,
        "doses": [],
    }
