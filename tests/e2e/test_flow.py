"""A resident's request through all five services, each its own process."""

from __future__ import annotations

import asyncio
import json
import re
import time
import zlib
from collections.abc import Iterator

import aiohttp
import asyncpg
import pytest
from joserfc import jws
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from tests.support.builders import request_body
from tests.support.stack import Stack, stack_with_new_key, vaxrec_cli

pytestmark = pytest.mark.e2e

LINK = re.compile(r"/c/([A-Za-z0-9_-]{43})\b")
DEMO_PHONE = "+12135550100"


@pytest.fixture(scope="module")
def stack(
    module_database_url: str,
    amqp_url: str,
    broker_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    with stack_with_new_key(
        tmp_path_factory.mktemp("e2e"),
        database_url=module_database_url,
        amqp_url=amqp_url,
        namespace=broker_namespace,
    ) as stack:
        yield stack


@pytest.fixture(scope="module", autouse=True)
def demo_registry(module_database_url: str) -> None:
    env = {"VAXREC_DATABASE_URL": module_database_url, "PATH": "/usr/bin:/bin"}
    vaxrec_cli("registry", "load-demo", "--residents", "200", env=env)


def outbox(stack: Stack) -> list[dict[str, str]]:
    """What `vaxrec outbox --json` prints: the development provider's sent messages."""
    messages: list[dict[str, str]] = json.loads(vaxrec_cli("outbox", "--json", env=stack.env))
    return messages


async def wait_for_message(stack: Stack, to: str, seen: int, wait_s: float = 20) -> dict[str, str]:
    """Poll the outbox table directly (a CLI call per poll would dominate the latency)."""
    conn = await asyncpg.connect(stack.env["VAXREC_DATABASE_URL"])
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            count = await conn.fetchval(
                "SELECT count(*) FROM notify.dev_outbox WHERE to_address = $1", to
            )
            if count > seen:
                mine = [m for m in outbox(stack) if m["to"] == to]
                assert len(mine) == count
                return mine[-1]
            await asyncio.sleep(0.005)
    finally:
        await conn.close()
    raise AssertionError(f"no message to the resident within {wait_s}s")


def verify_with_served_jwks(token_jws: str, jwks: dict[str, list[dict[str, str]]]) -> dict:
    registry = JWSRegistry(
        header_registry={"zip": HeaderParameter("Compression", "str")}, algorithms=["ES256"]
    )
    obj = jws.extract_compact(token_jws.encode())
    kid = obj.headers()["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    verified = jws.deserialize_compact(token_jws, ECKey.import_key(jwk), registry=registry)
    assert set(verified.headers()) == {"alg", "zip", "kid"}
    assert verified.headers()["alg"] == "ES256"
    assert verified.headers()["zip"] == "DEF"
    assert verified.payload[:2] not in (b"\x78\x9c", b"\x78\xda", b"\x1f\x8b")
    payload: dict = json.loads(zlib.decompress(verified.payload, -15))
    return payload


async def test_demo_resident_gets_a_link_and_a_verifiable_card(stack: Stack) -> None:
    before = len([m for m in outbox(stack) if m["to"] == DEMO_PHONE])
    async with aiohttp.ClientSession() as http:
        started = time.monotonic()
        async with http.post(
            f"{stack.url('intake')}/api/v1/record-requests", json=request_body()
        ) as response:
            assert response.status == 202
            request_id = (await response.json())["request_id"]
        message = await wait_for_message(stack, DEMO_PHONE, before)
        latency = time.monotonic() - started
        print(f"\nend-to-end latency, request to outbox message: {latency * 1000:.0f} ms")
        assert message["channel"] == "sms"
        assert message["language"] == "en"
        assert "PIN" in message["body"]
        match = LINK.search(message["body"])
        assert match, "the message carries the link"
        token = match.group(1)
        assert message["body"].find(stack.url("viewer")) >= 0

        card_url = f"{stack.url('viewer')}/api/v1/cards/{token}"
        async with http.post(card_url, json={"pin": "0007"}) as wrong:
            assert wrong.status == 404
            assert wrong.content_type == "application/problem+json"
        async with http.post(card_url, json={"pin": "4829"}) as right:
            assert right.status == 200
            assert right.headers["Cache-Control"] == "no-store"
            card = await right.json()
        async with http.get(
            f"{stack.url('viewer')}/.well-known/jwks.json",
            headers={"Origin": "https://example.org"},
        ) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            jwks = await response.json()

    assert all("d" not in key for key in jwks["keys"])
    payload = verify_with_served_jwks(card["jws"], jwks)
    assert payload["iss"] == stack.url("viewer")
    assert isinstance(payload["nbf"], int)
    assert payload["nbf"] <= time.time()
    assert "https://smarthealth.cards#health-card" in payload["vc"]["type"]
    entries = payload["vc"]["credentialSubject"]["fhirBundle"]["entry"]
    assert entries[0]["resource"] == {
        "resourceType": "Patient",
        "name": [{"family": "Doe", "given": ["John"]}],
        "birthDate": "1951-08-15",
    }
    assert [e["resource"]["occurrenceDateTime"] for e in entries[1:]] == [
        "2021-02-23",
        "2021-03-16",
    ]
    assert card["qr"].startswith("shc:/5676")
    assert card["patient"] == {"given": "John", "family": "Doe", "birth_date": "1951-08-15"}
    assert [d["cvx"] for d in card["doses"]] == ["208", "208"]
    assert card["doses"][1]["lot"] == "EN6207"
    assert card["doses"][1]["performer"] == "KAISER PERMANENTE NCAL"
    del request_id


async def test_nobody_found_gets_a_not_found_message(stack: Stack) -> None:
    email = "nobody.here@example.org"
    async with aiohttp.ClientSession() as http:
        body = request_body(first_name="Nobody", last_name="Here", phone=None, email=email)
        async with http.post(f"{stack.url('intake')}/api/v1/record-requests", json=body) as r:
            assert r.status == 202
    message = await wait_for_message(stack, email, 0)
    assert message["channel"] == "email"
    assert "could not find" in message["body"]
    assert message["subject"]
    assert not LINK.search(message["body"])


async def test_record_page_shows_the_record_and_the_qr(stack: Stack) -> None:
    before = len([m for m in outbox(stack) if m["to"] == DEMO_PHONE])
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.url('intake')}/api/v1/record-requests", json=request_body(pin="5821")
        ) as r:
            assert r.status == 202
        token = LINK.search((await wait_for_message(stack, DEMO_PHONE, before))["body"]).group(1)  # type: ignore[union-attr]
        page_url = f"{stack.url('viewer')}/c/{token}"
        async with http.get(page_url) as page:
            assert page.status == 200
            assert page.headers["Referrer-Policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
            form = await page.text()
            assert 'name="pin"' in form
        # The PIN form carries a CSRF token (double submit: the cookie the session keeps and
        # the hidden field).
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        async with http.post(page_url, data={"pin": "4829", "csrf": csrf}) as wrong:
            assert wrong.status == 403
            assert "4 tries left" in await wrong.text()
        async with http.post(page_url, data={"pin": "5821", "csrf": csrf}) as record:
            assert record.status == 200
            html = await record.text()
    assert "John" in html
    assert "1951-08-15" in html
    assert "2021-03-16" in html
    assert "<svg" in html
    assert "KAISER PERMANENTE NCAL" in html


def test_logs_hold_no_personal_data(stack: Stack) -> None:
    text = "".join(stack.log_text(s) for s in ("intake", "matcher", "signer", "notifier", "viewer"))
    assert "card.issued" in text
    for secret in ("1951-08-15", "2135550100", "555 0100", "john.doe", "4829", "5821"):
        # Whole tokens only: a random port or a timestamp may contain the same digits.
        assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text)
    assert not re.search(r"\bDoe\b", text)
