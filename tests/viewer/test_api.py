"""The viewer's card API and JWKS against the real Postgres, with cards the signer issued."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import zxingcpp
from aiohttp.test_utils import TestClient

from services.viewer import _session as session
from services.viewer._app import create_app
from services.viewer._settings import ViewerSettings
from tests.shc._png import read_grey_png
from tests.support.builders import TEST_PEPPER
from tests.support.cards import issue_card, key_ring, record_matched, signer_settings
from tests.support.http import serve_app
from vaxrec.hashing import token_hash
from vaxrec.health import Readiness
from vaxrec.shc import decode_payload, qr_text


@pytest.fixture
async def viewer(db: asyncpg.Pool) -> AsyncIterator[TestClient]:
    settings = ViewerSettings(pepper=TEST_PEPPER.decode(), environment="test")
    async with serve_app(create_app(settings, db, Readiness())) as client:
        yield client


@pytest.fixture
async def token(db: asyncpg.Pool, tmp_path: Path) -> str:
    key_ring(tmp_path / "keys")
    return await issue_card(db, signer_settings(tmp_path / "keys"), record_matched())


async def test_right_pin_opens_the_card(viewer: TestClient, token: str) -> None:
    response = await viewer.post(f"/api/v1/cards/{token}", json={"pin": "4829"})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    card = await response.json()
    assert card["qr"] == qr_text(card["jws"])
    assert card["patient"] == {"given": "John", "family": "Doe", "birth_date": "1951-08-15"}
    assert [(d["date"], d["lot"]) for d in card["doses"]] == [
        ("2021-02-23", None),
        ("2021-03-16", "EN6207"),
    ]
    assert card["doses"][0]["vaccine"]
    assert decode_payload(card["jws"])["iss"] == "https://records.example.org"


async def test_wrong_pin_unknown_token_and_lock_look_the_same(
    viewer: TestClient, token: str
) -> None:
    bodies = []
    for pin in ["0000", "1111", "2222", "3333"]:
        response = await viewer.post(f"/api/v1/cards/{token}", json={"pin": pin})
        assert response.status == 404
        bodies.append(await response.json())
    unknown = await viewer.post(f"/api/v1/cards/{'x' * 43}", json={"pin": "4829"})
    assert unknown.status == 404
    assert await unknown.json() == bodies[0]
    # The fifth wrong PIN locks the card: the right PIN no longer opens it.
    assert (await viewer.post(f"/api/v1/cards/{token}", json={"pin": "4444"})).status == 404
    locked = await viewer.post(f"/api/v1/cards/{token}", json={"pin": "4829"})
    assert locked.status == 404
    assert await locked.json() == bodies[0]


async def test_expired_link_is_refused(viewer: TestClient, token: str, db: asyncpg.Pool) -> None:
    await db.execute(
        "UPDATE cards.issued_cards SET expires_at = now() - interval '1 second' "
        "WHERE token_hash = $1",
        token_hash(TEST_PEPPER, token),
    )
    response = await viewer.post(f"/api/v1/cards/{token}", json={"pin": "4829"})
    assert response.status == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{", 400), (b'{"pin": "12"}', 422), (b'{"pin": 4829}', 422), (b'{"pin":"4829","x":1}', 422)],
)
async def test_bad_input_is_a_problem(
    viewer: TestClient, token: str, body: bytes, status: int
) -> None:
    response = await viewer.post(f"/api/v1/cards/{token}", data=body)
    assert response.status == status
    assert response.content_type == "application/problem+json"


async def test_jwks_publishes_public_keys_for_any_origin(viewer: TestClient, token: str) -> None:
    del token
    response = await viewer.get("/.well-known/jwks.json", headers={"Origin": "https://example.org"})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    keys = (await response.json())["keys"]
    assert keys
    for key in keys:
        assert set(key) >= {"kty", "crv", "use", "alg", "kid", "x", "y"}
        assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("EC", "P-256", "sig", "ES256")
        assert "d" not in key


async def test_api_file_download_is_a_smart_health_card(viewer: TestClient, token: str) -> None:
    wrong = await viewer.post(f"/api/v1/cards/{token}/file", json={"pin": "0000"})
    assert wrong.status == 404
    response = await viewer.post(f"/api/v1/cards/{token}/file", json={"pin": "4829"})
    assert response.status == 200
    assert response.content_type == "application/smart-health-card"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="vaccination-record.smart-health-card"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(await response.read())
    [jws] = body["verifiableCredential"]
    assert decode_payload(jws)["iss"] == "https://records.example.org"


async def test_page_downloads_need_the_pin_session_of_that_card(
    viewer: TestClient, token: str, db: asyncpg.Pool, tmp_path: Path
) -> None:
    # Without the PIN first, the downloads send the browser back to the PIN page.
    blocked = await viewer.get(f"/c/{token}/file", allow_redirects=False)
    assert blocked.status == 303
    assert blocked.headers["Location"] == f"/c/{token}"

    record = await viewer.post(f"/c/{token}", data={"pin": "4829"})
    assert record.status == 200
    html = await record.text()
    assert f"/c/{token}/file" in html
    cookie = record.cookies[session.COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == f"/c/{token}"

    file = await viewer.get(f"/c/{token}/file")
    assert file.status == 200
    assert file.content_type == "application/smart-health-card"
    [jws] = json.loads(await file.read())["verifiableCredential"]

    png = await viewer.get(f"/c/{token}/qr.png")
    assert png.status == 200
    assert png.content_type == "image/png"
    width, height, pixels = read_grey_png(await png.read())
    [barcode] = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert barcode.text == qr_text(jws)

    # The same cookie opens nothing of another card.
    other = await issue_card(db, signer_settings(tmp_path / "keys"), record_matched())
    viewer.session.cookie_jar.update_cookies(
        {session.COOKIE: cookie.value}, response_url=viewer.make_url(f"/c/{other}")
    )
    stolen = await viewer.get(f"/c/{other}/file", allow_redirects=False)
    assert stolen.status == 303
