from __future__ import annotations

import base64
import json
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from tests.shc.builders import BEFORE_EXP_03, EXAMPLE_ISS, Vectors, many_doses, patient
from vaxrec.shc import (
    DirectoryKeys,
    StaticCrls,
    StaticKeys,
    Verification,
    build_bundle,
    build_payload,
    decode_payload,
    public_jwk,
    sign,
    verify,
)
from vaxrec.shc._bundle import deflate, minify
from vaxrec.shc._jws import key_id, sign_deflated

ISS = "https://records.example.org"
NOW = 1_750_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def example_keys(vectors: Vectors) -> StaticKeys:
    return StaticKeys({EXAMPLE_ISS: vectors.json("jwks.json")})


async def check_example(vectors: Vectors, token: str, *, now: float | None = None) -> Verification:
    return await verify(
        token,
        keys=example_keys(vectors),
        trusted_issuers={EXAMPLE_ISS},
        now=time.time() if now is None else now,
        crl=None,
    )


# --- the spec's examples ------------------------------------------------------------------


@pytest.mark.parametrize("n", ["00", "01"])
async def test_accepts_examples(vectors: Vectors, n: str) -> None:
    result = await check_example(vectors, vectors.jws(n))
    assert result.reasons == []
    assert result.valid
    assert result.issuer == EXAMPLE_ISS
    assert result.payload == json.loads(vectors.minified(n))
    assert result.patient is not None
    assert result.patient.name == "John B. Anyperson"
    assert result.patient.birth_date == "1951-01-20"
    assert [(d.date, d.cvx, d.lot) for d in result.doses] == [
        ("2021-01-01", "207", "0000001"),
        ("2021-01-29", "207", "0000007"),
        ("2022-09-05", "229", "0000001"),
    ]
    assert result.doses[0].performer == "ABC General Hospital"
    assert "Moderna" in result.doses[0].vaccine
    assert all(d.counts for d in result.doses)


async def test_example_03_is_valid_before_exp_and_expired_after(vectors: Vectors) -> None:
    before = await check_example(vectors, vectors.jws("03"), now=BEFORE_EXP_03)
    assert before.valid, before.reasons
    after = await check_example(vectors, vectors.jws("03"))
    assert after.reasons == ["expired"]


async def test_example_03_against_its_crl(vectors: Vectors) -> None:
    # The vector CRL lists `vwAjHdarZuc.1687450765`, one second after this card's nbf
    # (1687450764.657), so by rule R2 the card is revoked. Pitfall 13: an older copy of the
    # CRL had a 2022 suffix, under which it would not be; the second case checks that rule.
    crl = vectors.crl()
    result = await verify(
        vectors.jws("03"),
        keys=example_keys(vectors),
        trusted_issuers={EXAMPLE_ISS},
        now=BEFORE_EXP_03,
        crl=StaticCrls({EXAMPLE_ISS: [crl]}),
    )
    assert result.reasons == ["revoked"]
    older = {**crl, "rids": ["vwAjHdarZuc.1664492124"]}
    result = await verify(
        vectors.jws("03"),
        keys=example_keys(vectors),
        trusted_issuers={EXAMPLE_ISS},
        now=BEFORE_EXP_03,
        crl=StaticCrls({EXAMPLE_ISS: [older]}),
    )
    assert result.valid, result.reasons


async def test_example_00_is_not_revoked_by_the_crl(vectors: Vectors) -> None:
    result = await verify(
        vectors.jws("00"),
        keys=example_keys(vectors),
        trusted_issuers={EXAMPLE_ISS},
        now=time.time(),
        crl=StaticCrls({EXAMPLE_ISS: [vectors.crl()]}),
    )
    assert result.valid, result.reasons


def flipped(token: str, part: int, index: int) -> str:
    segments = token.split(".")
    data = bytearray(unb64(segments[part]))
    data[index] ^= 0x01
    segments[part] = b64(bytes(data))
    return ".".join(segments)


@pytest.mark.parametrize("n", ["00", "01", "03"])
async def test_any_single_byte_changed_is_rejected(vectors: Vectors, n: str) -> None:
    token = vectors.jws(n)
    keys = example_keys(vectors)
    for part in (0, 1, 2):
        for index in range(len(unb64(token.split(".")[part]))):
            result = await verify(
                flipped(token, part, index),
                keys=keys,
                trusted_issuers={EXAMPLE_ISS},
                now=BEFORE_EXP_03,
                crl=None,
            )
            assert not result.valid, (part, index)
            if part == 2:
                assert result.reasons == ["bad-signature"]


async def test_our_signature_of_example_00_verifies(vectors: Vectors) -> None:
    expected = json.loads(vectors.minified("00"))
    token = sign({**expected, "nbf": int(time.time())}, vectors.private_key(0))
    result = await check_example(vectors, token)
    assert result.valid, result.reasons
    payload = decode_payload(token)
    assert isinstance(payload["nbf"], int)
    assert {**payload, "nbf": expected["nbf"]} == expected


async def test_directory_snapshot(vectors: Vectors, tmp_path: Path) -> None:
    snapshot = {
        "directory": "https://example.org/vci",
        "time": "2024-01-01T00:00:00Z",
        "issuerInfo": [
            {
                "issuer": {"iss": EXAMPLE_ISS, "name": "SMART Health Card example issuer"},
                "keys": vectors.jwks(),
                "crls": [vectors.crl()],
            }
        ],
    }
    path = tmp_path / "vci-snapshot.json"
    path.write_text(json.dumps(snapshot))
    directory = DirectoryKeys.from_vci_file(path)
    assert directory.issuers == {EXAMPLE_ISS}
    assert directory.name_of(EXAMPLE_ISS) == "SMART Health Card example issuer"

    async def check(token: str) -> Verification:
        return await verify(
            token,
            keys=directory,
            trusted_issuers=directory.issuers,
            now=BEFORE_EXP_03,
            crl=directory,
        )

    assert (await check(vectors.jws("00"))).valid
    assert (await check(vectors.jws("01"))).valid
    assert (await check(vectors.jws("03"))).reasons == ["revoked"]


# --- our own cards, one fault each --------------------------------------------------------


def card_payload(**claims: Any) -> dict[str, Any]:
    bundle = build_bundle(patient(), many_doses(3))
    payload = build_payload(
        iss=ISS, bundle=bundle, nbf=int(NOW) - 100, rid="RID00000001", covid=True
    )
    payload.update(claims)
    return payload


def own_keys(key: ECKey) -> StaticKeys:
    return StaticKeys({ISS: {"keys": [public_jwk(key, crl_version=2)]}})


async def check_own(
    token: str,
    key: ECKey,
    *,
    trusted: set[str] | None = None,
    rids: list[str] | None = None,
) -> list[str]:
    crl = {"kid": key_id(key), "method": "rid", "ctr": 2, "rids": rids or []}
    result = await verify(
        token,
        keys=own_keys(key),
        trusted_issuers={ISS} if trusted is None else trusted,
        now=NOW,
        crl=StaticCrls({ISS: [crl]}),
    )
    assert result.valid == (not result.reasons)
    return result.reasons


async def test_own_card_is_valid(key: ECKey) -> None:
    assert await check_own(sign(card_payload(), key), key) == []


async def test_altered_payload(key: ECKey) -> None:
    header, _, signature = sign(card_payload(), key).split(".")
    forged = b64(deflate(minify(card_payload(nbf=int(NOW) - 99))))
    assert await check_own(f"{header}.{forged}.{signature}", key) == ["bad-signature"]


async def test_altered_signature(key: ECKey) -> None:
    token = sign(card_payload(), key)
    assert await check_own(flipped(token, 2, 10), key) == ["bad-signature"]


async def test_unknown_kid(key: ECKey) -> None:
    other = ECKey.generate_key("P-256", private=True)
    assert await check_own(sign(card_payload(), other), key) == ["unknown-kid"]


async def test_alg_none(key: ECKey) -> None:
    header = b64(json.dumps({"alg": "none", "zip": "DEF", "kid": key_id(key)}).encode())
    token = f"{header}.{b64(deflate(minify(card_payload())))}."
    assert await check_own(token, key) == ["alg-not-es256"]


async def test_hs256_with_the_public_key_as_secret(key: ECKey) -> None:
    import hashlib
    import hmac

    header = b64(json.dumps({"alg": "HS256", "zip": "DEF", "kid": key_id(key)}).encode())
    signing_input = f"{header}.{b64(deflate(minify(card_payload())))}"
    secret = json.dumps(public_jwk(key)).encode()
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    assert await check_own(f"{signing_input}.{b64(mac)}", key) == ["alg-not-es256"]


async def test_untrusted_issuer(key: ECKey) -> None:
    token = sign(card_payload(), key)
    assert await check_own(token, key, trusted={"https://other.example"}) == ["untrusted-issuer"]


async def test_future_nbf(key: ECKey) -> None:
    token = sign(card_payload(nbf=int(NOW) + 3600), key)
    assert await check_own(token, key) == ["nbf-in-future"]


async def test_nbf_in_milliseconds(key: ECKey) -> None:
    token = sign(card_payload(nbf=int(NOW) * 1000), key)
    assert await check_own(token, key) == ["nbf-in-milliseconds"]


async def test_revoked_rid(key: ECKey) -> None:
    token = sign(card_payload(), key)
    assert await check_own(token, key, rids=["RID00000001"]) == ["revoked"]
    # A suffix revokes only cards issued before it.
    assert await check_own(token, key, rids=[f"RID00000001.{int(NOW)}"]) == ["revoked"]
    assert await check_own(token, key, rids=[f"RID00000001.{int(NOW) - 200}"]) == []


async def test_stale_crl(key: ECKey) -> None:
    token = sign(card_payload(), key)
    result = await verify(
        token,
        keys=own_keys(key),
        trusted_issuers={ISS},
        now=NOW,
        crl=StaticCrls({ISS: [{"kid": key_id(key), "method": "rid", "ctr": "1", "rids": []}]}),
    )
    assert result.reasons == ["crl-stale"]


async def test_expired_exp(key: ECKey) -> None:
    token = sign(card_payload(exp=int(NOW) - 1), key)
    assert await check_own(token, key) == ["expired"]


async def test_der_signature(key: ECKey) -> None:
    header, body, _ = sign(card_payload(), key).split(".")
    private = key.get_op_key("sign")
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    der = private.sign(f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    assert await check_own(f"{header}.{body}.{b64(der)}", key) == ["der-signature"]


async def test_zlib_wrapped_payload(key: ECKey) -> None:
    token = sign_deflated(zlib.compress(minify(card_payload()), 9), key, key_id(key))
    assert await check_own(token, key) == ["zlib-wrapped"]


async def test_not_deflated(key: ECKey) -> None:
    from joserfc import jws

    from vaxrec.shc._jws import REGISTRY

    token = jws.serialize_compact(
        {"alg": "ES256", "kid": key_id(key)}, minify(card_payload()), key, registry=REGISTRY
    )
    assert await check_own(token, key) == ["not-deflated"]


async def test_thumbprint_mismatch(key: ECKey) -> None:
    other = ECKey.generate_key("P-256", private=True)
    jwk = {**public_jwk(other), "kid": key_id(key)}
    result = await verify(
        sign(card_payload(), key),
        keys=StaticKeys({ISS: [jwk]}),
        trusted_issuers={ISS},
        now=NOW,
        crl=None,
    )
    assert result.reasons == ["thumbprint-mismatch"]


async def test_no_health_card_type(key: ECKey) -> None:
    payload = card_payload()
    payload["vc"]["type"] = ["https://smarthealth.cards#immunization"]
    assert await check_own(sign(payload, key), key) == ["no-health-card-type"]


@pytest.mark.parametrize("token", ["", "x", "a.b", "a.b.c.d", "e30.e30.AA"])
async def test_garbage_is_malformed(key: ECKey, token: str) -> None:
    assert await check_own(token, key)
