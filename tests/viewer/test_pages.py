"""The resident's pages behind a link, against the real Postgres with cards the signer issued."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from markupsafe import escape

from services.viewer import _session as session
from services.viewer._app import create_app
from services.viewer._settings import ViewerSettings
from services.viewer._wallet import GOOGLE_SAVE, GoogleWalletSettings
from tests.support.builders import TEST_PEPPER
from tests.support.cards import issue_card, key_ring, record_matched, signer_settings
from tests.support.http import serve_app
from vaxrec.hashing import token_hash
from vaxrec.health import Readiness
from vaxrec.i18n import fill, page_text
from vaxrec.shc import qr_text

CSRF = re.compile(r'name="csrf" value="([A-Za-z0-9_-]{43})"')
#: What a browser adds to a post from the page itself.
BROWSER = {"Sec-Fetch-Site": "same-origin"}
NO_WALLET = GoogleWalletSettings.model_validate({})


def _t(language: str, key: str, **values: str) -> str:
    return str(escape(fill(page_text(language, "viewer")[key], values)))


def _settings() -> ViewerSettings:
    return ViewerSettings(pepper=TEST_PEPPER.decode(), environment="test")


@pytest.fixture
async def viewer(db: asyncpg.Pool) -> AsyncIterator[TestClient]:
    async with serve_app(create_app(_settings(), db, Readiness(), NO_WALLET)) as client:
        yield client


async def _issue(db: asyncpg.Pool, tmp_path: Path, language: str = "en") -> str:
    key_ring(tmp_path / "keys")
    envelope = record_matched()
    envelope = envelope.model_copy(
        update={"data": envelope.data.model_copy(update={"language": language})}
    )
    return await issue_card(db, signer_settings(tmp_path / "keys"), envelope)


async def _pin(client: TestClient, token: str, pin: str, lang: str = "en") -> tuple[int, str]:
    page = await client.get(f"/c/{token}?lang={lang}")
    match = CSRF.search(await page.text())
    assert match
    response = await client.post(
        f"/c/{token}", data={"pin": pin, "csrf": match.group(1), "lang": lang}, headers=BROWSER
    )
    return response.status, await response.text()


async def test_the_pin_page_opens_in_the_language_of_the_request(
    viewer: TestClient, db: asyncpg.Pool, tmp_path: Path
) -> None:
    token = await _issue(db, tmp_path, "ar")
    response = await viewer.get(f"/c/{token}")
    html = await response.text()
    assert '<html lang="ar" dir="rtl">' in html
    assert _t("ar", "pin_intro") in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    # The switcher's choice wins over the card's.
    assert '<html lang="es" dir="ltr">' in await (await viewer.get(f"/c/{token}?lang=es")).text()


async def test_wrong_pins_say_how_many_tries_are_left_then_the_link_locks(
    viewer: TestClient, db: asyncpg.Pool, tmp_path: Path
) -> None:
    token = await _issue(db, tmp_path)
    seen = []
    for pin in ("0000", "1111", "2222", "3333"):
        status, html = await _pin(viewer, token, pin, "ko")
        assert status == 403
        seen.append(html)
    assert _t("ko", "err_pin_wrong", tries="4") in seen[0]
    assert _t("ko", "err_pin_wrong", tries="2") in seen[2]
    assert _t("ko", "err_pin_last") in seen[3]
    status, html = await _pin(viewer, token, "4444", "ko")
    assert _t("ko", "locked") in html
    assert _t("ko", "request_again") in html
    # Locked for good: a fresh visit says so before any PIN, and the API opens nothing.
    visit = await (await viewer.get(f"/c/{token}?lang=en")).text()
    assert _t("en", "locked") in visit
    assert 'name="pin"' not in visit
    api = await viewer.post(f"/api/v1/cards/{token}", json={"pin": "4829"})
    assert api.status == 404


async def test_an_expired_link_says_so_before_any_pin(
    viewer: TestClient, db: asyncpg.Pool, tmp_path: Path
) -> None:
    token = await _issue(db, tmp_path, "vi")
    await db.execute(
        "UPDATE cards.issued_cards SET expires_at = now() - interval '1 second' "
        "WHERE token_hash = $1",
        token_hash(TEST_PEPPER, token),
    )
    html = await (await viewer.get(f"/c/{token}")).text()
    assert _t("vi", "expired") in html
    assert 'name="pin"' not in html
    unknown = await (await viewer.get(f"/c/{'A' * 43}")).text()
    assert _t("en", "unknown") in unknown


async def test_a_forged_post_is_refused_without_spending_a_try(
    viewer: TestClient, db: asyncpg.Pool, tmp_path: Path
) -> None:
    token = await _issue(db, tmp_path)
    other_site = await viewer.post(
        f"/c/{token}", data={"pin": "0000"}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status == 403
    no_token = await viewer.post(f"/c/{token}", data={"pin": "0000"}, headers=BROWSER)
    assert no_token.status == 403
    assert _t("en", "err_form_expired") in await no_token.text()
    failed = await db.fetchval(
        "SELECT failed_pin_attempts FROM cards.issued_cards WHERE token_hash = $1",
        token_hash(TEST_PEPPER, token),
    )
    assert failed == 0


async def test_the_record_page(viewer: TestClient, db: asyncpg.Pool, tmp_path: Path) -> None:
    token = await _issue(db, tmp_path)
    status, html = await _pin(viewer, token, "4829", "tl")
    assert status == 200
    assert '<html lang="tl" dir="ltr">' in html
    assert "EN6207" in html
    assert "<svg" in html
    jws = await db.fetchval(
        "SELECT jws FROM cards.issued_cards WHERE token_hash = $1", token_hash(TEST_PEPPER, token)
    )
    digits = qr_text(jws).removeprefix("shc:/")
    assert digits.isdigit()
    assert f'href="https://redirect.health.apple.com/SMARTHealthCard/{digits}"' in html
    assert GOOGLE_SAVE not in html  # no Google account configured, no button
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/viewer.js" defer>']
    # Within the PIN session a reload (or a language switch) shows the record again.
    again = await viewer.get(f"/c/{token}?lang=zh-Hant")
    assert again.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in again.headers["Content-Security-Policy"]
    assert "EN6207" in await again.text()
    viewer.session.cookie_jar.clear(lambda c: c.key == session.COOKIE)
    assert "EN6207" not in await (await viewer.get(f"/c/{token}")).text()


async def test_google_wallet_button_carries_a_signed_save_jwt(
    db: asyncpg.Pool, tmp_path: Path
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    wallet = GoogleWalletSettings.model_validate(
        {
            "GOOGLE_WALLET_ISSUER_ID": "3388000000012345678",
            "GOOGLE_WALLET_SERVICE_ACCOUNT_EMAIL": "wallet@vaxrec-demo.iam.gserviceaccount.com",
            "GOOGLE_WALLET_PRIVATE_KEY": pem,
        }
    )
    token = await _issue(db, tmp_path)
    async with serve_app(create_app(_settings(), db, Readiness(), wallet)) as viewer:
        status, html = await _pin(viewer, token, "4829")
    assert status == 200
    link = re.search(rf'href="{re.escape(GOOGLE_SAVE)}([A-Za-z0-9_.-]+)"', html)
    assert link
    public = RSAKey.import_key(
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    claims = jwt.decode(link.group(1), public, algorithms=["RS256"]).claims
    assert claims["aud"] == "google"
    assert claims["typ"] == "savetowallet"
    assert claims["iss"] == "wallet@vaxrec-demo.iam.gserviceaccount.com"
    (card,) = claims["payload"]["genericObjects"]
    assert card["classId"] == "3388000000012345678.vaccination-record"
    assert card["barcode"]["type"] == "QR_CODE"
    assert card["barcode"]["value"].startswith("shc:/")
    jws = await db.fetchval(
        "SELECT jws FROM cards.issued_cards WHERE token_hash = $1", token_hash(TEST_PEPPER, token)
    )
    assert card["barcode"]["value"] == qr_text(jws)


def test_half_configured_google_wallet_is_refused() -> None:
    with pytest.raises(ValueError, match="go together"):
        GoogleWalletSettings.model_validate({"GOOGLE_WALLET_ISSUER_ID": "1"})


async def test_a_qr_holding_fewer_doses_says_so(db: asyncpg.Pool, tmp_path: Path) -> None:
    DOSES = 90  # noqa: N806 - a constant of this test
    import secrets
    from datetime import date, timedelta

    from contracts import Dose

    key_ring(tmp_path / "keys")
    doses = [
        Dose(
            cvx=("207", "208", "210", "212", "213")[n % 5],
            occurred_on=date(1960, 1, 1) + timedelta(days=97 * n + secrets.randbelow(60)),
            # Random text: compression must not make all of them fit.
            lot_number=f"LOT{n:02d}{secrets.token_hex(6)}",
            performer=f"CLINIC {secrets.token_hex(12)}",
        )
        for n in range(DOSES)
    ]
    token = await issue_card(db, signer_settings(tmp_path / "keys"), record_matched(doses=doses))
    async with serve_app(create_app(_settings(), db, Readiness(), NO_WALLET)) as viewer:
        status, html = await _pin(viewer, token, "4829", "es")
    assert status == 200
    in_qr = await db.fetchval(
        "SELECT doses_in_qr FROM cards.issued_cards WHERE token_hash = $1",
        token_hash(TEST_PEPPER, token),
    )
    assert in_qr < DOSES
    assert _t("es", "qr_partial", in_qr=str(in_qr), total=str(DOSES)) in html
    assert len(re.findall(r"<td>LOT\d\d", html)) == DOSES  # the table lists every dose
