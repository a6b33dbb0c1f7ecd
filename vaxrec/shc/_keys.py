"""Signing keys: generation, RFC 7638 thumbprints, the published JWK and the revocation id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from joserfc.jwk import ECKey

from vaxrec.shc._errors import ShcError


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key() -> ECKey:
    """A new P-256 private key for ES256."""
    return ECKey.generate_key("P-256", private=True)


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an EC JWK (members crv, kty, x, y)."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def public_jwk(key: ECKey, *, crl_version: int | None = None) -> dict[str, Any]:
    """The key as published in the issuer's JWKS: public members only, never `d`."""
    values = key.as_dict(private=False)
    if values.get("kty") != "EC" or values.get("crv") != "P-256":
        raise ShcError("SMART Health Card keys must be EC P-256")
    jwk: dict[str, Any] = {
        "kty": "EC",
        "crv": "P-256",
        "use": "sig",
        "alg": "ES256",
        "kid": thumbprint(values),
        "x": values["x"],
        "y": values["y"],
    }
    if crl_version is not None:
        jwk["crlVersion"] = int(crl_version)
    return jwk


def rid(secret: str, kid: str, user_id: str) -> str:
    """The revocation id: base64url(HMAC-SHA-256(secret + kid, user_id)[:8]), 11 characters."""
    # Keyed by the secret's text plus the kid, exactly as the spec's reference generator does,
    # so a rid can be recomputed from the published vectors.
    digest = hmac.new((secret + kid).encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256)
    return b64url(digest.digest()[:8])
