"""Verifying a card as a relying party would (shared/shc-checklist.md, verifier section).

`verify` never raises for a bad card: every problem found becomes a machine code in
`Verification.reasons`, and the card is valid only when there is none. The codes:

    shape      malformed, bom, too-large, not-deflated, zlib-wrapped
    header     alg-not-es256 (also `none` and HS256), unknown-kid
    issuer     bad-iss (not https, or a trailing /), untrusted-issuer
    key        unknown-kid, thumbprint-mismatch, bad-key (not EC P-256 sig ES256),
               keys-unavailable (the key source could not answer, e.g. a fetch timed out)
    signature  bad-signature, der-signature (DER instead of 64-byte R||S)
    claims     bad-nbf, nbf-in-milliseconds, nbf-in-future, bad-exp, expired,
               no-health-card-type
    revocation revoked, crl-unavailable, crl-stale (CRL ctr below the key's crlVersion)

Not checked yet: x5c certificate chains (checklist verifier item 10) and the FHIR profiles.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jws as jose_jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey

from vaxrec.shc._bundle import HEALTH_CARD, inflate
from vaxrec.shc._errors import InvalidCard, SourceUnavailable
from vaxrec.shc._jws import REGISTRY, Parts, parse_body, split
from vaxrec.shc._keys import thumbprint
from vaxrec.shc._sources import CrlSource, Jwk, KeySource
from vaxrec.shc._view import DoseView, PatientView, read_card

CLOCK_SKEW = 60.0  # seconds an issuer's clock may run ahead of ours
_MS_THRESHOLD = 1e10  # an nbf past this is milliseconds (checklist pitfall 3)
# Development issuers are served over plain http on this machine; nothing else may be http.
_LOCAL_HTTP = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?(/.*)?$")


@dataclass(frozen=True)
class Verification:
    """The outcome of `verify`: valid, or the reasons it is not, and what the card says."""

    valid: bool
    reasons: list[str]
    issuer: str | None = None
    kid: str | None = None
    payload: dict[str, Any] | None = None
    patient: PatientView | None = None
    doses: list[DoseView] = field(default_factory=list)


def _is_der(signature: bytes) -> bool:
    try:
        decode_dss_signature(signature)
    except ValueError:
        return False
    return True


def _payload(parts: Parts, reasons: list[str]) -> dict[str, Any] | None:
    """The payload, reading past a zlib wrapper (reported) so the card can still be shown."""
    try:
        if parts.header.get("zip") != "DEF":
            reasons.append("not-deflated")
            return parse_body(parts.body)
        try:
            return parse_body(inflate(parts.body))
        except InvalidCard as err:
            if err.reason != "zlib-wrapped":
                raise
            reasons.append("zlib-wrapped")
            return parse_body(inflate(parts.body, wbits=15))
    except InvalidCard as err:
        reasons.append(err.reason)
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _iss_shape_ok(iss: Any, local_http: bool) -> bool:
    if not isinstance(iss, str) or iss.endswith("/"):
        return False
    return iss.startswith("https://") or (local_http and _LOCAL_HTTP.match(iss) is not None)


def _check_claims(
    payload: dict[str, Any],
    trusted: Collection[str] | None,
    now: float,
    reasons: list[str],
    local_http: bool = False,
) -> bool:
    """Check iss, nbf, exp and vc.type; True when the issuer may be asked for keys."""
    iss = payload.get("iss")
    trustworthy = False
    if not _iss_shape_ok(iss, local_http):
        reasons.append("bad-iss")
    elif trusted is not None and iss not in trusted:
        reasons.append("untrusted-issuer")
    else:
        trustworthy = True
    nbf = _number(payload.get("nbf"))
    if nbf is None:
        reasons.append("bad-nbf")
    elif nbf > _MS_THRESHOLD:
        reasons.append("nbf-in-milliseconds")
    elif nbf > now + CLOCK_SKEW:
        reasons.append("nbf-in-future")
    if "exp" in payload:
        exp = _number(payload["exp"])
        if exp is None:
            reasons.append("bad-exp")
        elif exp < now:
            reasons.append("expired")
    vc = payload.get("vc")
    types = vc.get("type") if isinstance(vc, dict) else None
    if not isinstance(types, list) or HEALTH_CARD not in types:
        reasons.append("no-health-card-type")
    return trustworthy


def _select_key(jwks: list[Jwk], kid: str, reasons: list[str]) -> Jwk | None:
    jwk = next((k for k in jwks if isinstance(k, dict) and k.get("kid") == kid), None)
    if jwk is None:
        reasons.append("unknown-kid")
        return None
    shape_ok = (
        jwk.get("kty") == "EC"
        and jwk.get("crv") == "P-256"
        and jwk.get("use") == "sig"
        and jwk.get("alg") == "ES256"
        and "d" not in jwk
    )
    if not shape_ok:
        reasons.append("bad-key")
        return None
    try:
        if thumbprint(jwk) != kid:
            reasons.append("thumbprint-mismatch")
            return None
    except (KeyError, TypeError):
        reasons.append("bad-key")
        return None
    return jwk


def _check_signature(token: str, parts: Parts, jwk: Jwk, reasons: list[str]) -> bool:
    """True only when the ES256 signature was checked and holds."""
    if len(parts.signature) != 64:
        reasons.append("der-signature" if _is_der(parts.signature) else "bad-signature")
        return False
    try:
        key = ECKey.import_key(jwk)
    except (JoseError, ValueError):
        reasons.append("bad-key")
        return False
    try:
        jose_jws.deserialize_compact(token, key, registry=REGISTRY)
    except BadSignatureError:
        reasons.append("bad-signature")
        return False
    except JoseError:
        reasons.append("malformed")
        return False
    return True


@functools.lru_cache(maxsize=64)
def _crl_index(rids: tuple[object, ...]) -> dict[str, int | None]:
    """rid -> the time before which its cards are revoked (None: all of them).

    Built once per distinct CRL: a CRL may list thousands of rids, and a verifier at a door
    checks card after card against the same list.
    """
    index: dict[str, int | None] = {}
    for entry in rids:
        if not isinstance(entry, str):
            continue
        listed, _, until = entry.partition(".")
        if not until:
            index[listed] = None
        elif until.isdigit() and (listed not in index or index[listed] is not None):
            index[listed] = max(int(until), index.get(listed) or 0)
    return index


def _is_revoked(crl: dict[str, Any], card_rid: str, nbf: float) -> bool:
    rids = crl.get("rids")
    index = _crl_index(tuple(rids)) if isinstance(rids, list) else {}
    if card_rid not in index:
        return False
    until = index[card_rid]
    # A `rid.<time>` entry revokes only cards issued before that time (checklist R2).
    return until is None or nbf < until


async def _check_revocation(
    crls: CrlSource, iss: str, kid: str, jwk: Jwk, payload: dict[str, Any], reasons: list[str]
) -> None:
    card_rid = payload["vc"].get("rid") if isinstance(payload.get("vc"), dict) else None
    nbf = _number(payload.get("nbf"))
    if "crlVersion" not in jwk or not isinstance(card_rid, str) or nbf is None:
        return
    try:
        crl = await crls.crl_for(iss, kid)
    except SourceUnavailable:
        crl = None
    if crl is None or crl.get("kid") != kid or crl.get("method") != "rid":
        reasons.append("crl-unavailable")
        return
    try:
        stale = int(crl.get("ctr", 0)) < int(jwk["crlVersion"])  # `ctr` is seen as "1" too
    except (TypeError, ValueError):
        stale = True
    if stale:
        reasons.append("crl-stale")
    if _is_revoked(crl, card_rid, nbf):
        reasons.append("revoked")


async def verify(
    jws: str,
    *,
    keys: KeySource,
    trusted_issuers: Collection[str] | None,
    now: float,
    crl: CrlSource | None,
    local_http: bool = False,
) -> Verification:
    """Verify one compact JWS: structure, issuer trust, key, ES256 signature, time, revocation.

    `local_http` accepts an `iss` of http://127.0.0.1, localhost or [::1] (development).
    """
    token = jws.strip()
    try:
        parts = split(token)
    except InvalidCard as err:
        return Verification(valid=False, reasons=[err.reason])
    reasons: list[str] = []
    header = parts.header
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    if header.get("alg") != "ES256":
        reasons.append("alg-not-es256")
    if kid is None:
        reasons.append("unknown-kid")
    payload = _payload(parts, reasons)
    if payload is None:
        return Verification(valid=False, reasons=reasons, kid=kid)
    iss = payload.get("iss") if isinstance(payload.get("iss"), str) else None
    # Valid needs a signature that was actually checked, not merely no reason against it
    # (a verifier that let a failed check through is checklist pitfall 11).
    signed = False
    # Keys are looked up only for a trusted issuer: a key source may fetch over the network,
    # and an untrusted card must not make us call the URL it names.
    if _check_claims(payload, trusted_issuers, now, reasons, local_http) and iss and kid:
        try:
            jwk = _select_key(await keys.keys_for(iss), kid, reasons)
        except SourceUnavailable:
            reasons.append("keys-unavailable")
            jwk = None
        if jwk is not None and "alg-not-es256" not in reasons:
            signed = _check_signature(token, parts, jwk, reasons)
        if jwk is not None and crl is not None:
            await _check_revocation(crl, iss, kid, jwk, payload, reasons)
    patient, doses = read_card(payload)
    return Verification(
        valid=signed and not reasons,
        reasons=reasons,
        issuer=iss,
        kid=kid,
        payload=payload,
        patient=patient,
        doses=doses,
    )
