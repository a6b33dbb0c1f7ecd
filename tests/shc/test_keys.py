from __future__ import annotations

import re

from joserfc.jwk import ECKey

from tests.shc.builders import EXAMPLE_KID, Vectors
from vaxrec.shc import generate_key, public_jwk, rid, thumbprint


def test_thumbprint_of_checklist_k2_vector() -> None:
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw",
        "y": "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8",
    }
    assert thumbprint(jwk) == "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"


def test_thumbprint_of_every_example_key_equals_its_kid(vectors: Vectors) -> None:
    for jwk in vectors.jwks() + vectors.json("issuer.jwks.private.json")["keys"]:
        assert thumbprint(jwk) == jwk["kid"]


def test_thumbprint_agrees_with_joserfc(key: ECKey) -> None:
    assert thumbprint(key.as_dict()) == key.thumbprint()


def test_public_jwk_has_exactly_the_published_members(vectors: Vectors) -> None:
    jwk = public_jwk(vectors.private_key(0))
    assert jwk == {
        "kty": "EC",
        "crv": "P-256",
        "use": "sig",
        "alg": "ES256",
        "kid": EXAMPLE_KID,
        "x": "11XvRWy1I2S0EyJlyf_bWfw_TQ5CJJNLw78bHXNxcgw",
        "y": "eZXwxvO1hvCY0KucrPfKo7yAyMT6Ajc3N7OkAB6VYy8",
    }
    assert public_jwk(vectors.private_key(0), crl_version=1) == vectors.jwks()[0]


def test_generated_key_is_p256_and_publishes_no_private_part() -> None:
    jwk = public_jwk(generate_key())
    assert "d" not in jwk
    assert len(jwk["x"]) == len(jwk["y"]) == 43
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", jwk["kid"])
    assert jwk["kid"] == thumbprint(jwk)


def test_rid_reproduces_the_examples(vectors: Vectors) -> None:
    secret = vectors.json("issuer.hmac.private.json")["secret"]
    assert rid(secret, EXAMPLE_KID, "userid-02") == "YjKhdFoxL_g"
    for n, user in (("00", "userid-00"), ("03", "userid-03")):
        payload = vectors.json(f"example-{n}-b-jws-payload-expanded.json")
        assert rid(secret, EXAMPLE_KID, user) == payload["vc"]["rid"]
    fakes = {rid(secret, EXAMPLE_KID, f"fake-userid-{i}") for i in (1, 2, 3)}
    assert fakes | {"vwAjHdarZuc"} == {r.split(".")[0] for r in vectors.crl()["rids"]}
