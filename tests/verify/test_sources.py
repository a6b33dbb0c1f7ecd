"""Trust files in the VCI directory's shapes, and the HTTP source's refusals."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from services.viewer._app import create_app
from services.viewer._settings import ViewerSettings
from tests.shc.builders import EXAMPLE_ISS, Vectors
from tests.support.builders import TEST_PEPPER
from tests.support.http import serve_app
from tests.verify.cli import run_async
from tests.verify.conftest import issue
from vaxrec.health import Readiness
from vaxrec.shc import DirectoryKeys, HttpIssuers, SourceUnavailable

Client = TestClient[web.Request, web.Application]


def test_trust_shapes(vectors: Vectors) -> None:
    keys = vectors.json("jwks.json")["keys"]
    snapshot = {"issuerInfo": [{"issuer": {"iss": EXAMPLE_ISS, "name": "Example"}, "keys": keys}]}
    listing = {"participating_issuers": [{"iss": EXAMPLE_ISS, "name": "Example", "website": "x"}]}
    bare = [{"iss": EXAMPLE_ISS, "name": "Example", "keys": keys}]
    for document, key_count in ((snapshot, 2), (listing, 0), (bare, 2)):
        directory = DirectoryKeys.from_trust(document)
        assert directory.issuers == {EXAMPLE_ISS}
        assert directory.name_of(EXAMPLE_ISS) == "Example"
        assert len(directory._issuers[EXAMPLE_ISS].keys) == key_count
    for bad in ({"keys": keys}, [{"name": "no iss"}], "text"):
        with pytest.raises(ValueError):
            DirectoryKeys.from_trust(bad)


@pytest.fixture
async def viewer(db: asyncpg.Pool) -> AsyncIterator[Client]:
    settings = ViewerSettings(pepper=TEST_PEPPER.decode(), environment="test")
    async with serve_app(create_app(settings, db, Readiness())) as client:
        yield client


async def test_issuer_list_with_fetch(
    capsys: pytest.CaptureFixture[str], db: asyncpg.Pool, tmp_path: Path, viewer: Client
) -> None:
    iss = str(viewer.make_url("")).rstrip("/")
    card = await issue(db, tmp_path / "keys", issuer=iss)
    listing = tmp_path / "vci-issuers.json"
    listing.write_text(json.dumps({"participating_issuers": [{"iss": iss, "name": "Local"}]}))
    common = ["--fetch", "--allow-http-localhost", "--no-cache", "--json"]
    trusted = await run_async(capsys, "--trust", str(listing), *common, card.jws)
    assert (trusted.code, trusted.reasons) == (0, [[]])
    assert trusted.cards[0]["issuer_name"] == "Local"
    assert trusted.cards[0]["issuer_trust_checked"] is True
    # Not in the list: refused (and never fetched: see the next test).
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"participating_issuers": [{"iss": "https://x.org", "name": "X"}]}))
    untrusted = await run_async(capsys, "--trust", str(other), *common, card.jws)
    assert (untrusted.code, untrusted.reasons) == (1, [["untrusted-issuer"]])


async def test_untrusted_issuer_is_never_fetched(vectors: Vectors) -> None:
    from vaxrec.shc import verify

    async with HttpIssuers(timeout_s=0.5) as source:
        result = await verify(
            vectors.jws("00"),
            keys=source,
            trusted_issuers={"https://x.org"},
            now=2e9,
            crl=source,
        )
        assert result.reasons == ["untrusted-issuer"]
        assert source.fetched == []


async def test_http_refusals(tmp_path: Path) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    async def huge(request: web.Request) -> web.Response:
        return web.json_response({"keys": [{"pad": "x" * 600_000}]})

    async def no_crl(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    async def not_json(request: web.Request) -> web.Response:
        return web.Response(text="<html>")

    app = web.Application()
    app.router.add_get("/moved/.well-known/jwks.json", moved)
    app.router.add_get("/huge/.well-known/jwks.json", huge)
    app.router.add_get("/html/.well-known/jwks.json", not_json)
    app.router.add_get("/x/.well-known/crl/{kid}.json", no_crl)
    async with serve_app(app) as client, HttpIssuers(cache_dir=tmp_path) as source:
        base = str(client.make_url("")).rstrip("/")
        for path in ("/moved", "/huge", "/html", "/missing"):
            with pytest.raises(SourceUnavailable):
                await source.keys_for(base + path)
        assert await source.crl_for(base + "/x", "k" * 43) is None
        assert await source.crl_for(base + "/x", "../../etc") is None
    assert await asyncio.to_thread(os.listdir, tmp_path) == []  # no failure was cached
