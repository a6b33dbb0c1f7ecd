"""Ten faulty variants of a card the signer really issued, each refused by `vaxrec verify`.

Every variant is made from the real card and, where it needs a signature, the signer's own key,
so each fails for its one fault only. Altered payload and altered signature share the reason
`bad-signature`: a verifier cannot tell which half of a signed message was changed.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.verify.cli import run_async
from tests.verify.conftest import Issued, write_trust_file
from vaxrec.revocation import revoke_card
from vaxrec.shc import decode_payload, deflate, generate_key, minify, sign
from vaxrec.shc._jws import key_id, sign_deflated


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resigned(card: Issued, **claims: Any) -> str:
    """The card's own payload with some claims changed, signed again by the signer's key."""
    return sign({**decode_payload(card.jws), **claims}, card.key)


def altered_payload(card: Issued) -> str:
    header, _, signature = card.jws.split(".")
    payload = decode_payload(card.jws)
    patient = payload["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]
    patient["birthDate"] = "1991-08-15"
    return f"{header}.{b64(deflate(minify(payload)))}.{signature}"


def altered_signature(card: Issued) -> str:
    header, body, signature = card.jws.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[40] ^= 0x01
    return f"{header}.{body}.{b64(bytes(raw))}"


def unknown_kid(card: Issued) -> str:
    return sign(decode_payload(card.jws), generate_key())


def alg_none(card: Issued) -> str:
    _, body, _ = card.jws.split(".")
    header = b64(json.dumps({"alg": "none", "zip": "DEF", "kid": card.kid}).encode())
    return f"{header}.{body}."


def untrusted_issuer(card: Issued) -> str:
    return resigned(card, iss="https://records.example.net")


def future_nbf(card: Issued) -> str:
    return resigned(card, nbf=int(time.time()) + 3600)


def expired(card: Issued) -> str:
    return resigned(card, exp=int(time.time()) - 60)


def der_signature(card: Issued) -> str:
    header, body, _ = card.jws.split(".")
    private = card.key.get_op_key("sign")
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    der = private.sign(f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    return f"{header}.{body}.{b64(der)}"


def zlib_wrapped(card: Issued) -> str:
    payload = minify(decode_payload(card.jws))
    return sign_deflated(zlib.compress(payload, 9), card.key, key_id(card.key))


CASES: dict[str, tuple[Callable[[Issued], str], str]] = {
    "altered payload": (altered_payload, "bad-signature"),
    "altered signature": (altered_signature, "bad-signature"),
    "unknown kid": (unknown_kid, "unknown-kid"),
    "alg none": (alg_none, "alg-not-es256"),
    "issuer not trusted": (untrusted_issuer, "untrusted-issuer"),
    "future nbf": (future_nbf, "nbf-in-future"),
    "expired exp": (expired, "expired"),
    "DER signature": (der_signature, "der-signature"),
    "zlib-wrapped payload": (zlib_wrapped, "zlib-wrapped"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_each_fault_has_its_reason(
    case: str,
    capsys: pytest.CaptureFixture[str],
    db: asyncpg.Pool,
    issued: Issued,
    tmp_path: Path,
) -> None:
    trust = await write_trust_file(db, tmp_path / "trust.json")
    assert (await run_async(capsys, "--trust", str(trust), issued.jws)).code == 0
    make, reason = CASES[case]
    result = await run_async(capsys, "--trust", str(trust), "--json", make(issued))
    assert (result.code, result.reasons) == (1, [[reason]])
    assert "Verdict: INVALID" not in result.out  # --json prints JSON only


async def test_revoked_rid(
    capsys: pytest.CaptureFixture[str], db: asyncpg.Pool, issued: Issued, tmp_path: Path
) -> None:
    async with db.acquire() as conn:
        await revoke_card(conn, card_id=uuid.UUID(issued.card_id))
    # A directory snapshot taken after the revocation carries the key's CRL.
    trust = await write_trust_file(db, tmp_path / "trust.json")
    result = await run_async(capsys, "--trust", str(trust), "--json", issued.jws)
    assert (result.code, result.reasons) == (1, [["revoked"]])


def test_the_reasons_are_distinct_except_for_the_signature() -> None:
    reasons = [reason for _, reason in CASES.values()] + ["revoked"]
    assert len(reasons) == 10
    assert len(set(reasons)) == 9  # altered payload and altered signature: both bad-signature
