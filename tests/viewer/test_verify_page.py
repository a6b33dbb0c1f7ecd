"""The viewer's /verify page: pasted text or a QR photo, checked against the viewer's own keys."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient
from markupsafe import escape
from PIL import Image

from services.viewer._app import create_app
from services.viewer._settings import ViewerSettings
from tests.shc.builders import Vectors
from tests.support.builders import TEST_PEPPER
from tests.support.cards import ISSUER
from tests.support.http import serve_app
from tests.verify.conftest import Issued, issue
from vaxrec.health import Readiness
from vaxrec.i18n import page_text
from vaxrec.revocation import revoke_card
from vaxrec.shc import qr_chunks, qr_text, render_qr_png

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def viewer(db: asyncpg.Pool) -> AsyncIterator[Client]:
    settings = ViewerSettings(
        pepper=TEST_PEPPER.decode(),
        environment="test",
        issuer=ISSUER,
        verify_max_photo_bytes=200_000,
    )
    async with serve_app(create_app(settings, db, Readiness())) as client:
        yield client


@pytest.fixture
async def card(db: asyncpg.Pool, tmp_path: Path) -> Issued:
    return await issue(db, tmp_path / "keys")


@pytest.fixture
def vectors(shared_dir: Path) -> Vectors:
    return Vectors(shared_dir / "vectors" / "shc")


def form(**fields: str | bytes) -> FormData:
    data = FormData()
    for name, value in fields.items():
        if isinstance(value, bytes):
            data.add_field(name, value, filename="qr.png", content_type="image/png")
        else:
            data.add_field(name, value)
    return data


def reasons(html: str) -> list[str]:
    return re.findall(r'data-reason="([a-z0-9-]+)"', html)


async def test_get_shows_the_form_with_no_script(viewer: Client) -> None:
    response = await viewer.get("/verify")
    assert response.status == 200
    html = await response.text()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="text"' in html
    assert 'name="photo"' in html
    assert "<script" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp


async def test_pasted_text_of_a_valid_card(viewer: Client, card: Issued) -> None:
    response = await viewer.post("/verify", data=form(text=qr_text(card.jws)))
    assert response.status == 200
    html = await response.text()
    assert "Valid card" in html
    assert reasons(html) == []
    assert "John Doe" in html
    assert "1951-08-15" in html
    assert "EN6207" in html
    assert "Pfizer" in html


async def test_uploaded_png_of_a_valid_card(viewer: Client, card: Issued) -> None:
    response = await viewer.post("/verify", data=form(photo=render_qr_png(card.jws)))
    assert response.status == 200
    html = await response.text()
    assert "Valid card" in html
    assert "John Doe" in html


async def test_uploaded_jpeg_photo(viewer: Client, card: Issued) -> None:
    qr = Image.open(io.BytesIO(render_qr_png(card.jws, scale=5))).convert("RGB")
    photo = Image.new("RGB", (1000, 900), (90, 100, 110))
    photo.paste(qr.rotate(-5, expand=True, fillcolor=(255, 255, 255)), (150, 100))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=75)
    data = FormData()
    data.add_field("photo", out.getvalue(), filename="p.jpg", content_type="image/jpeg")
    html = await (await viewer.post("/verify", data=data)).text()
    assert "Valid card" in html


async def test_json_for_a_machine(viewer: Client, card: Issued) -> None:
    response = await viewer.post(
        "/verify", data=form(text=qr_text(card.jws)), headers={"Accept": "application/json"}
    )
    [verdict] = (await response.json())["cards"]
    assert verdict["valid"] is True
    assert verdict["issuer"] == ISSUER
    assert verdict["person"] == {"name": "John Doe", "birth_date": "1951-08-15"}


async def test_urlencoded_text_works_too(viewer: Client, card: Issued) -> None:
    response = await viewer.post("/verify", data={"text": qr_text(card.jws)})
    assert "Valid card" in await response.text()


async def test_revoked_card(viewer: Client, card: Issued, db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await revoke_card(conn, card_id=uuid.UUID(card.card_id))
    html = await (await viewer.post("/verify", data=form(text=qr_text(card.jws)))).text()
    assert "Not a valid card" in html
    assert reasons(html) == ["revoked"]
    assert "The issuer has revoked this card." in html


async def test_another_issuers_card_is_not_trusted(viewer: Client, vectors: Vectors) -> None:
    html = await (await viewer.post("/verify", data=form(text=qr_text(vectors.jws("00"))))).text()
    assert reasons(html) == ["untrusted-issuer"]


async def test_altered_card(viewer: Client, card: Issued) -> None:
    header, body, signature = card.jws.split(".")
    swapped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    html = await (await viewer.post("/verify", data=form(text=f"{header}.{body}.{swapped}"))).text()
    assert reasons(html) == ["bad-signature"]


async def test_chunked_text(viewer: Client, vectors: Vectors) -> None:
    chunks = qr_chunks(vectors.jws("02"))
    assert len(chunks) == 3
    html = await (await viewer.post("/verify", data=form(text="\n".join(chunks[:2])))).text()
    assert reasons(html) == ["qr-incomplete"]


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({}, 422, "Paste a shc:/ text or choose a photo"),
        ({"text": "   "}, 422, "Paste a shc:/ text or choose a photo"),
        ({"text": "shc:/56", "photo": b"\x89PNG"}, 422, "Paste a shc:/ text or choose a photo"),
        ({"text": "x" * 20_000}, 413, "too large"),
        ({"photo": b"\x89PNG" + b"\x00" * 300_000}, 413, "too large"),
    ],
)
async def test_bad_input_gets_a_friendly_page(
    viewer: Client, fields: dict[str, str | bytes], status: int, message: str
) -> None:
    response = await viewer.post("/verify", data=form(**fields) if fields else FormData({}))
    assert response.status == status
    assert response.content_type == "text/html"
    assert message in await response.text()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"text": "hello"}, "unreadable-input"),
        ({"text": "shc:/999999"}, "qr-malformed"),
        ({"photo": b"\x89PNG\r\n\x1a\n" + b"\x00" * 100}, "not-an-image"),
        ({"photo": b"not an image at all"}, "not-an-image"),
    ],
)
async def test_unreadable_input_is_a_verdict_not_an_error(
    viewer: Client, fields: dict[str, str | bytes], reason: str
) -> None:
    response = await viewer.post("/verify", data=form(**fields))
    assert response.status == 200
    assert reasons(await response.text()) == [reason]


async def test_blank_photo_has_no_qr(viewer: Client) -> None:
    out = io.BytesIO()
    Image.new("L", (300, 300), 255).save(out, "PNG")
    html = await (await viewer.post("/verify", data=form(photo=out.getvalue()))).text()
    assert reasons(html) == ["no-qr-found"]


async def test_machine_errors_are_problems(viewer: Client) -> None:
    json_accept = {"Accept": "application/json"}
    empty = await viewer.post("/verify", data=form(text=""), headers=json_accept)
    assert (empty.status, empty.content_type) == (422, "application/problem+json")
    wrong_type = await viewer.post("/verify", json={"text": "shc:/1"})
    assert (wrong_type.status, wrong_type.content_type) == (415, "application/problem+json")
    extra = await viewer.post("/verify", data=form(text="shc:/1", other="x"), headers=json_accept)
    assert (extra.status, extra.content_type) == (422, "application/problem+json")
    twice = FormData()
    twice.add_field("photo", b"a", filename="a.png")
    twice.add_field("photo", b"b", filename="b.png")
    repeated = await viewer.post("/verify", data=twice)
    assert (repeated.status, repeated.content_type) == (400, "application/problem+json")


async def test_the_page_and_its_verdicts_in_the_language_asked_for(
    viewer: Client, card: Issued, db: asyncpg.Pool
) -> None:
    ko, ar = page_text("ko", "verify"), page_text("ar", "verify")
    page = await viewer.get("/verify", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"})
    html = await page.text()
    assert '<html lang="ko" dir="ltr">' in html
    assert page.headers["Content-Language"] == "ko"
    assert f"<h1>{escape(ko['title'])}</h1>" in html
    assert 'action="/verify?lang=ko"' in html  # the verdict comes back in the same language

    async with db.acquire() as conn:
        await revoke_card(conn, card_id=uuid.UUID(card.card_id))
    # ?lang= (the page's language links) wins over the browser's language.
    response = await viewer.post(
        "/verify?lang=ar", data=form(text=qr_text(card.jws)), headers={"Accept-Language": "ko"}
    )
    html = await response.text()
    assert '<html lang="ar" dir="rtl">' in html
    assert escape(ar["invalid_title"]) in html
    assert f'<li data-reason="revoked">{escape(ar["reason_revoked"])}</li>' in html
    # The JSON for machines keeps English sentences, as `vaxrec verify --json` does.
    machine = await viewer.post(
        "/verify?lang=ar", data=form(text=qr_text(card.jws)), headers={"Accept": "application/json"}
    )
    [verdict] = (await machine.json())["cards"]
    assert verdict["reasons"] == [{"code": "revoked", "text": "The issuer has revoked this card."}]

    refused = await viewer.post("/verify?lang=vi", data=FormData({}))
    assert refused.status == 422
    assert escape(page_text("vi", "verify")["err_one_input"]) in await refused.text()
