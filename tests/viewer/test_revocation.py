"""`vaxrec cards revoke` → the viewer's CRL and JWKS → a verifier says revoked."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from markupsafe import escape

from services.signer._keys import load_keys
from services.signer._publish_keys import publish_public_keys
from services.viewer._app import create_app
from services.viewer._settings import ViewerSettings
from tests.support.builders import TEST_PEPPER
from tests.support.cards import ISSUER, record_matched
from tests.support.http import serve_app
from tests.verify.conftest import RID_SECRET, Issued, issue
from vaxrec.cli import main
from vaxrec.health import Readiness
from vaxrec.i18n import page_text
from vaxrec.revocation import RevocationError, revoke_patient
from vaxrec.shc import StaticCrls, StaticKeys, decode_payload, verify

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def viewer(db: asyncpg.Pool) -> AsyncIterator[Client]:
    settings = ViewerSettings(pepper=TEST_PEPPER.decode(), environment="test", crl_max_age_s=30)
    async with serve_app(create_app(settings, db, Readiness())) as client:
        yield client


@pytest.fixture
async def card(db: asyncpg.Pool, tmp_path: Path) -> Issued:
    return await issue(db, tmp_path / "keys")


async def revoke(database_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    argv = ["cards", "revoke", "--database-url", database_url, "--json", *args]
    assert await asyncio.to_thread(main, argv) == 0
    return json.loads(capsys.readouterr().out)


async def published(viewer: Client, kid: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The key as the JWKS publishes it, and its CRL (None when 404)."""
    keys = (await (await viewer.get("/.well-known/jwks.json")).json())["keys"]
    [jwk] = [k for k in keys if k["kid"] == kid]
    response = await viewer.get(f"/.well-known/crl/{kid}.json")
    return jwk, (await response.json() if response.status == 200 else None)


async def verdict(viewer: Client, card: Issued) -> list[str]:
    """What a verifier that read the viewer's JWKS and CRL would say."""
    jwk, crl = await published(viewer, card.kid)
    result = await verify(
        card.jws,
        keys=StaticKeys({ISSUER: [jwk]}),
        trusted_issuers={ISSUER},
        now=time.time(),
        crl=StaticCrls({ISSUER: [crl] if crl else []}),
    )
    return result.reasons


async def test_revoke_by_request_id(
    viewer: Client, card: Issued, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    jwk, crl = await published(viewer, card.kid)
    assert "crlVersion" not in jwk
    assert crl is None
    assert await verdict(viewer, card) == []

    [result] = await revoke(database_url, capsys, "--request-id", card.request_id)
    nbf = decode_payload(card.jws)["nbf"]
    assert result["entry"] == f"{card.rid}.{nbf + 1}"
    assert (result["ctr"], result["changed"], result["cards_marked"]) == (1, True, 1)

    response = await viewer.get(
        f"/.well-known/crl/{card.kid}.json", headers={"Origin": "https://x.org"}
    )
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=30"
    assert await response.json() == {
        "kid": card.kid,
        "method": "rid",
        "ctr": 1,
        "rids": [f"{card.rid}.{nbf + 1}"],
    }
    jwk, _ = await published(viewer, card.kid)
    assert jwk["crlVersion"] == 1
    assert await verdict(viewer, card) == ["revoked"]

    # The same revocation again changes nothing: ctr stays.
    [again] = await revoke(database_url, capsys, "--card-id", card.card_id)
    assert (again["ctr"], again["changed"]) == (1, False)


async def test_crl_version_follows_ctr_and_survives_a_signer_restart(
    viewer: Client,
    card: Issued,
    db: asyncpg.Pool,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    await revoke(database_url, capsys, "--card-id", card.card_id)
    await revoke(database_url, capsys, "--card-id", card.card_id, "--forever")
    jwk, crl = await published(viewer, card.kid)
    assert crl is not None
    assert crl["rids"] == [card.rid]  # the bare rid replaced the dated entry: no duplicates
    assert jwk["crlVersion"] == crl["ctr"] == 2
    # The signer re-publishes its keys (without crlVersion) whenever it starts.
    await publish_public_keys(db, load_keys(tmp_path / "keys"))
    jwk, crl = await published(viewer, card.kid)
    assert crl is not None
    assert jwk["crlVersion"] == crl["ctr"] == 2


async def test_a_card_issued_after_the_revocation_stays_valid(
    viewer: Client,
    card: Issued,
    db: asyncpg.Pool,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    await revoke(database_url, capsys, "--card-id", card.card_id)
    await asyncio.sleep(1.1)  # nbf is in whole seconds
    fresh = record_matched()
    patient = fresh.data.patient.model_copy(update={"registry_id": card.registry_id})
    again = fresh.model_copy(update={"data": fresh.data.model_copy(update={"patient": patient})})
    newer = await issue(db, tmp_path / "keys", envelope=again)
    assert (newer.kid, newer.rid) == (card.kid, card.rid)  # same person, same key: same rid
    assert await verdict(viewer, card) == ["revoked"]
    assert await verdict(viewer, newer) == []


async def test_revoke_by_registry_id_recomputes_the_rid(
    viewer: Client,
    card: Issued,
    db: asyncpg.Pool,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAXREC_RID_SECRET", RID_SECRET)
    results = await revoke(database_url, capsys, "--registry-id", card.registry_id)
    # One entry per published key; the one for this card's key is its rid.
    mine = [r for r in results if r["kid"] == card.kid]
    assert [r["rid"] for r in mine] == [card.rid]
    assert await verdict(viewer, card) == ["revoked"]

    async with db.acquire() as conn:
        with pytest.raises(RevocationError, match="not the secret"):
            await revoke_patient(conn, card.registry_id, "another secret", now=time.time())


async def test_revoked_card_is_not_shown_as_valid_on_its_page(
    viewer: Client, card: Issued, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (await viewer.post(f"/c/{card.token}", data={"pin": "4829"})).status == 200
    await revoke(database_url, capsys, "--card-id", card.card_id)
    page = await viewer.post(f"/c/{card.token}", data={"pin": "4829"})
    assert page.status == 404
    html = await page.text()
    assert "Vaccination record</h1>" not in html
    # The link's holder is told why, and that a QR saved from the card no longer verifies.
    revoked = str(escape(page_text("en", "viewer")["revoked"]))
    assert revoked in html
    assert revoked in await (await viewer.get(f"/c/{card.token}")).text()
    api = await viewer.post(f"/api/v1/cards/{card.token}", json={"pin": "4829"})
    assert api.status == 404
    # The API answers a revoked card as it answers a link that never existed.
    unknown = await viewer.post(f"/api/v1/cards/{'A' * 43}", json={"pin": "4829"})
    assert (await api.json())["title"] == (await unknown.json())["title"]


async def test_unknown_card_and_key_without_crl(
    viewer: Client, card: Issued, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["cards", "revoke", "--database-url", database_url, "--card-id", str(uuid.uuid4())]
    assert await asyncio.to_thread(main, argv) == 1
    assert "no issued card" in capsys.readouterr().err
    none = await viewer.get(f"/.well-known/crl/{card.kid}.json")
    assert none.status == 404
    assert none.content_type == "application/problem+json"
    assert (await viewer.get("/.well-known/crl/not-a-kid.json")).status == 404
