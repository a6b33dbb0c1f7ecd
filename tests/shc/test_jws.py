from __future__ import annotations

import base64
import json
import re
import zlib

import pytest
from joserfc import jws as joserfc_jws
from joserfc.jwk import ECKey

from tests.shc.builders import EXAMPLE_KID, Vectors
from vaxrec.shc import InvalidCard, decode_payload, sign


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_signed_example_has_the_shc_header_and_a_raw_signature(vectors: Vectors) -> None:
    payload = json.loads(vectors.minified("00"))
    token = sign(payload, vectors.private_key(0))
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    header, body, signature = token.split(".")
    assert json.loads(b64decode(header)) == {"alg": "ES256", "zip": "DEF", "kid": EXAMPLE_KID}
    assert b64decode(header).startswith(b'{"alg":"ES256","zip":"DEF","kid":')
    assert len(b64decode(signature)) == 64
    assert zlib.decompress(b64decode(body), -15) == vectors.minified("00")
    assert len(token) == len(vectors.jws("00"))  # same header length, same deflated size


def test_signature_verifies_with_the_published_key(vectors: Vectors) -> None:
    token = sign(json.loads(vectors.minified("00")), vectors.private_key(0))
    public = ECKey.import_key(vectors.jwks()[0])
    from vaxrec.shc._jws import REGISTRY

    assert (
        joserfc_jws.deserialize_compact(token, public, registry=REGISTRY).headers()["zip"] == "DEF"
    )


def test_decode_payload_reads_every_example(vectors: Vectors) -> None:
    for n in ("00", "01", "02", "03"):
        assert decode_payload(vectors.jws(n)) == json.loads(vectors.minified(n))


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not a jws", "malformed"),
        ("a.b", "malformed"),
        ("eyJhbGciOiJFUzI1NiJ9.e30.AA", "not-deflated"),  # no zip header
    ],
)
def test_decode_payload_refuses_what_is_not_a_card(token: str, reason: str) -> None:
    with pytest.raises(InvalidCard) as caught:
        decode_payload(token)
    assert caught.value.reason == reason


def test_decode_payload_caps_inflated_size(key: ECKey) -> None:
    from vaxrec.shc._bundle import deflate
    from vaxrec.shc._jws import key_id, sign_deflated

    bomb = deflate(b'{"a":"' + b"x" * (2 << 20) + b'"}')
    with pytest.raises(InvalidCard) as caught:
        decode_payload(sign_deflated(bomb, key, key_id(key)))
    assert caught.value.reason == "too-large"
