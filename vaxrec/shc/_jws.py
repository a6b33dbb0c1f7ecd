"""The compact JWS: ES256 over the raw-DEFLATEd payload, signed and checked through joserfc."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey
from joserfc.registry import HeaderParameter, in_choices

from vaxrec.shc._bundle import deflate, inflate, minify
from vaxrec.shc._errors import InvalidCard
from vaxrec.shc._keys import b64url_decode, thumbprint

# An empty signature is let through the shape check so that `alg: none` is named as such.
COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
SIGNATURE_CHARS = 86  # 64 bytes of R||S, base64url without padding

# joserfc knows `zip` only for JWE; SMART Health Cards put it in a JWS header. Registered once,
# with ES256 the only algorithm, so neither `none` nor an HMAC confusion can get through.
REGISTRY = jws.JWSRegistry(
    header_registry={"zip": HeaderParameter("Compression Algorithm", in_choices(["DEF"]))},
    algorithms=["ES256"],
)


def _header(kid: str) -> dict[str, str]:
    return {"alg": "ES256", "zip": "DEF", "kid": kid}


def key_id(key: ECKey) -> str:
    """The kid of a signing key (its RFC 7638 thumbprint)."""
    return thumbprint(key.as_dict(private=False))


def b64_len(n: int) -> int:
    return (4 * n + 2) // 3


def jws_length(kid: str, deflated_len: int) -> int:
    """The exact length of the compact JWS for a payload of `deflated_len` bytes, unsigned."""
    header = json.dumps(_header(kid), separators=(",", ":")).encode("ascii")
    return b64_len(len(header)) + 1 + b64_len(deflated_len) + 1 + SIGNATURE_CHARS


def sign_deflated(deflated: bytes, key: ECKey, kid: str) -> str:
    return jws.serialize_compact(_header(kid), deflated, key, registry=REGISTRY)


def sign(payload: dict[str, Any], key: ECKey) -> str:
    """The compact JWS of the payload: header {alg ES256, zip DEF, kid}, raw-DEFLATE body."""
    return sign_deflated(deflate(minify(payload)), key, key_id(key))


@dataclass(frozen=True)
class Parts:
    """A compact JWS split and decoded, nothing checked beyond its shape."""

    header: dict[str, Any]
    body: bytes
    signature: bytes


def split(token: str) -> Parts:
    """Split and base64url-decode a compact JWS; raises InvalidCard('malformed')."""
    if not COMPACT.match(token):
        raise InvalidCard("malformed", "not a compact JWS")
    h, p, s = token.split(".")
    try:
        header = json.loads(b64url_decode(h))
        parts = Parts(header=header, body=b64url_decode(p), signature=b64url_decode(s))
    except ValueError as err:
        raise InvalidCard("malformed", str(err)) from err
    if not isinstance(header, dict):
        raise InvalidCard("malformed", "header is not a JSON object")
    return parts


def parse_body(raw: bytes) -> dict[str, Any]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raise InvalidCard("bom", "payload JSON starts with a byte-order mark")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except ValueError as err:
        raise InvalidCard("malformed", f"payload is not JSON: {err}") from err
    if not isinstance(payload, dict):
        raise InvalidCard("malformed", "payload is not a JSON object")
    return payload


def decode_payload(token: str) -> dict[str, Any]:
    """The card's payload, inflated and parsed, without checking the signature."""
    parts = split(token)
    if parts.header.get("zip") != "DEF":
        raise InvalidCard("not-deflated", "header has no zip:DEF")
    return parse_body(inflate(parts.body))
