"""`vaxrec verify --fetch` against the real viewer serving its JWKS and CRL on a local port."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from services.viewer._app import create_app
from services.viewer._settings import ViewerSettings
from tests.shc.builders import many_doses, patient
from tests.support.builders import TEST_PEPPER
from tests.support.http import serve_app
from tests.verify.cli import run_async
from tests.verify.conftest import issue
from vaxrec.health import Readiness
from vaxrec.revocation import revoke_card
from vaxrec.shc import (
    HttpIssuers,
    build_bundle,
    build_payload,
    generate_key,
    qr_text,
    sign,
)


@pytest.fixture
async def viewer(db: asyncpg.Pool) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    settings = ViewerSettings(pepper=TEST_PEPPER.decode(), environment="test")
    async with serve_app(create_app(settings, db, Readiness())) as client:
        yield client


def base_url(client: TestClient[web.Request, web.Application]) -> str:
    return str(client.make_url("")).rstrip("/")


async def test_fetch_verifies_then_sees_the_revocation(
    capsys: pytest.CaptureFixture[str],
    db: asyncpg.Pool,
    tmp_path: Path,
    viewer: TestClient[web.Request, web.Application],
) -> None:
    iss = base_url(viewer)
    card = await issue(db, tmp_path / "keys", issuer=iss)
    args = ["--fetch", "--allow-http-localhost", "--no-cache", "--json", qr_text(card.jws)]
    before = await run_async(capsys, *args)
    assert (before.code, before.reasons) == (0, [[]])
    assert before.cards[0]["issuer"] == iss
    assert before.cards[0]["issuer_trust_checked"] is False

    async with db.acquire() as conn:
        await revoke_card(conn, request_id=uuid.UUID(card.request_id))
    after = await run_async(capsys, *args)
    assert (after.code, after.reasons) == (1, [["revoked"]])


async def test_plain_http_issuer_needs_the_flag(
    capsys: pytest.CaptureFixture[str],
    db: asyncpg.Pool,
    tmp_path: Path,
    viewer: TestClient[web.Request, web.Application],
) -> None:
    card = await issue(db, tmp_path / "keys", issuer=base_url(viewer))
    result = await run_async(capsys, "--fetch", "--no-cache", "--json", card.jws)
    assert (result.code, result.reasons) == (1, [["bad-iss"]])


async def test_jwks_is_cached_on_disk_and_crl_is_not(
    db: asyncpg.Pool, tmp_path: Path, viewer: TestClient[web.Request, web.Application]
) -> None:
    iss = base_url(viewer)
    card = await issue(db, tmp_path / "keys", issuer=iss)
    async with db.acquire() as conn:
        await revoke_card(conn, card_id=uuid.UUID(card.card_id))
    cache = tmp_path / "cache"
    async with HttpIssuers(cache_dir=cache) as first:
        keys = await first.keys_for(iss)
        assert card.kid in [k["kid"] for k in keys]
        await first.keys_for(iss)  # from memory
        crl = await first.crl_for(iss, card.kid)
        assert crl is not None
        assert [entry.partition(".")[0] for entry in crl["rids"]] == [card.rid]
        assert first.fetched == [
            f"{iss}/.well-known/jwks.json",
            f"{iss}/.well-known/crl/{card.kid}.json",
        ]
    async with HttpIssuers(cache_dir=cache) as second:
        assert await second.keys_for(iss) == keys
        await second.crl_for(iss, card.kid)
        assert second.fetched == [f"{iss}/.well-known/crl/{card.kid}.json"]


async def test_a_slow_issuer_times_out(capsys: pytest.CaptureFixture[str]) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"keys": []})

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", slow)
    async with serve_app(app) as client:
        iss = base_url(client)
        bundle = build_bundle(patient(), many_doses(2))
        payload = build_payload(
            iss=iss, bundle=bundle, nbf=int(time.time()) - 10, rid=None, covid=True
        )
        token = sign(payload, generate_key())
        started = time.monotonic()
        result = await run_async(
            capsys, "--fetch", "--allow-http-localhost", "--timeout", "0.3", "--json", token
        )
        assert time.monotonic() - started < 3
    assert (result.code, result.reasons) == (1, [["keys-unavailable"]])
