"""The HTML request form against the real broker: the same request as the API, as pages."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient
from markupsafe import escape as _escape

from contracts import Envelope, RecordRequestedV1
from services.intake import _csrf as csrf
from services.intake._app import create_app
from services.intake._settings import IntakeSettings
from tests.support.broker import delete_namespace, fresh_bus, topology_for_tests
from tests.support.builders import TEST_PEPPER
from tests.support.http import serve_app
from vaxrec.bus import Bus, connect_bus
from vaxrec.hashing import pin_matches
from vaxrec.health import Readiness
from vaxrec.i18n import page_text


def _esc(text: str) -> str:
    """As Jinja2's autoescape writes a text into the page."""
    return str(_escape(text))


TOKEN = re.compile(r'name="csrf" value="([A-Za-z0-9_-]{43})"')
FORM = {
    "first_name": "John",
    "last_name": "Doe",
    "date_of_birth": "1951-08-15",
    "contact": "sms",
    "phone": "+1 213 555 0100",
    "email": "",
    "pin": "4829",
    "consent": "yes",
    "language": "en",
}


@pytest.fixture
async def bus(amqp_url: str) -> AsyncIterator[Bus]:
    async with fresh_bus(amqp_url) as bus:
        yield bus


@pytest.fixture
async def client(bus: Bus) -> AsyncIterator[TestClient]:
    settings = IntakeSettings(pepper=TEST_PEPPER.decode(), environment="test")
    async with serve_app(create_app(settings, bus.publisher, Readiness())) as client:
        yield client


async def _token(client: TestClient, path: str = "/") -> str:
    page = await client.get(path)
    match = TOKEN.search(await page.text())
    assert match
    return match.group(1)


async def _queued(bus: Bus) -> list[Envelope[RecordRequestedV1]]:
    queue = await bus.channel.get_queue(bus.topology.queue("matcher", RecordRequestedV1))
    found = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        found.append(Envelope[RecordRequestedV1].model_validate_json(message.body))
    return found


async def test_form_page_explains_pin_rules_before_the_pin_and_allows_no_inline_script(
    client: TestClient,
) -> None:
    response = await client.get("/")
    assert response.status == 200
    html = await response.text()
    t = {k: _esc(v) for k, v in page_text("en", "intake").items()}
    assert '<html lang="en" dir="ltr">' in html
    assert html.index(t["pin_rules"]) < html.index('id="pin"')
    assert t["families"] in html
    assert t["consent"] in html
    # Every script is an external file; the policy allows no other.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/form.js" defer>']
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.cookies[csrf.COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    script = await client.get("/static/form.js")
    assert script.status == 200
    assert "refusedPins" in await script.text()


@pytest.mark.parametrize(
    ("tag", "lang", "direction"), [("ar", "ar", "rtl"), ("zh-TW", "zh-Hant", "ltr")]
)
async def test_language_switcher_and_direction(
    client: TestClient, tag: str, lang: str, direction: str
) -> None:
    html = await (await client.get(f"/?lang={tag}")).text()
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert _esc(page_text(lang, "intake")["submit"]) in html
    assert f'name="language" value="{lang}"' in html
    for other in ("en", "es", "ko", "tl"):
        assert f'href="/?lang={other}" lang="{other}"' in html


async def test_a_valid_post_queues_the_request_and_redirects_to_the_same_received_page(
    client: TestClient, bus: Bus
) -> None:
    token = await _token(client)
    # Under Referrer-Policy: no-referrer, Chromium posts the form with "Origin: null".
    known = await client.post(
        "/",
        data={**FORM, "csrf": token, "language": "es"},
        headers={"Origin": "null"},
        allow_redirects=False,
    )
    unknown = await client.post(
        "/",
        data={
            **FORM,
            "csrf": token,
            "language": "es",
            "first_name": "Nobody",
            "contact": "email",
            "email": "nobody@example.org",
        },
        allow_redirects=False,
    )
    assert known.status == unknown.status == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/received?lang=es"
    first = await (await client.get("/received?lang=es")).text()
    assert _esc(page_text("es", "intake")["received_title"]) in first
    assert "John" not in first
    assert "Nobody" not in first
    queued = await _queued(bus)
    assert [(q.data.first_name, q.data.contact.channel, q.data.language) for q in queued] == [
        ("John", "sms", "es"),
        ("Nobody", "email", "es"),
    ]
    salt = bytes.fromhex(queued[0].data.pin.salt)
    assert pin_matches(TEST_PEPPER, salt, "4829", bytes.fromhex(queued[0].data.pin.hash))


@pytest.mark.parametrize(
    ("changes", "field", "key"),
    [
        ({"pin": "1111"}, "pin", "err_pin_same"),
        ({"pin": "0123"}, "pin", "err_pin_ascending"),
        ({"pin": "12a4"}, "pin", "err_pin_digits"),
        ({"first_name": "  "}, "first_name", "err_first_name"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "err_date_future"),
        ({"date_of_birth": "1899-12-31"}, "date_of_birth", "err_date_early"),
        ({"date_of_birth": ""}, "date_of_birth", "err_date_of_birth"),
        ({"phone": "call me"}, "phone", "err_phone"),
        ({"contact": "email", "email": "nope"}, "email", "err_email"),
        ({"contact": ""}, "contact", "err_contact"),
        ({"consent": ""}, "consent", "err_consent"),
    ],
)
async def test_each_error_is_shown_next_to_its_field_and_nothing_is_queued(
    client: TestClient, bus: Bus, changes: dict[str, str], field: str, key: str
) -> None:
    token = await _token(client, "/?lang=vi")
    response = await client.post("/", data={**FORM, "csrf": token, "language": "vi", **changes})
    assert response.status == 422
    html = await response.text()
    message = _esc(page_text("vi", "intake")[key])
    assert f'<p class="error" id="{field}-error" aria-live="polite">{message}</p>' in html
    if field not in ("contact", "consent"):
        assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"', html, re.S)
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html, re.S)
    assert 'value="Doe"' in html  # what the resident typed stays,
    assert "4829" not in html  # but never the PIN
    assert await _queued(bus) == []


async def test_a_post_without_the_form_token_is_refused(client: TestClient, bus: Bus) -> None:
    token = await _token(client)
    forged = await client.post("/", data={**FORM, "csrf": "x" * 43})
    assert forged.status == 403
    assert _esc(page_text("en", "intake")["err_form_expired"]) in await forged.text()
    other_site = await client.post(
        "/", data={**FORM, "csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status == 403
    client.session.cookie_jar.clear()
    no_cookie = await client.post("/", data={**FORM, "csrf": token})
    assert no_cookie.status == 403
    assert await _queued(bus) == []


async def test_broker_down_is_a_friendly_503_page_keeping_the_typed_values(amqp_url: str) -> None:
    namespace = f"vaxrec-test-{secrets.token_hex(4)}"
    bus = await connect_bus(amqp_url, topology_for_tests(namespace))
    await bus.close()
    try:
        settings = IntakeSettings(pepper="x", environment="test", publish_timeout_s=1)
        async with serve_app(create_app(settings, bus.publisher, Readiness())) as client:
            token = await _token(client, "/?lang=ko")
            response = await client.post("/", data={**FORM, "csrf": token, "language": "ko"})
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
            assert response.content_type == "text/html"
            html = await response.text()
            assert _esc(page_text("ko", "intake")["unavailable_body"]) in html
            assert 'value="John"' in html
            assert "Traceback" not in html
    finally:
        await delete_namespace(amqp_url, namespace)


async def test_switching_language_keeps_what_was_typed_but_the_pin_and_sends_nothing(
    client: TestClient, bus: Bus
) -> None:
    # What form.js posts when a language link is followed on a filled-in form.
    token = await _token(client, "/?lang=en")
    response = await client.post(
        "/", data={**FORM, "csrf": token, "language": "en", "switch_language": "es"}
    )
    assert response.status == 200
    html = await response.text()
    assert '<html lang="es" dir="ltr">' in html
    assert 'name="language" value="es"' in html
    assert _esc(page_text("es", "intake")["submit"]) in html
    for typed in ('value="John"', 'value="Doe"', 'value="1951-08-15"', 'value="+1 213 555 0100"'):
        assert typed in html
    assert 'id="consent" name="consent" type="checkbox" value="yes" required checked' in html
    assert "4829" not in html
    assert '<div id="error-summary" class="summary" tabindex="-1" hidden>' in html
    assert 'aria-invalid="true"' not in html
    # A switch needs the form's token like any post, and never queues a request.
    forged = await client.post("/", data={**FORM, "csrf": "x" * 43, "switch_language": "ko"})
    assert forged.status == 403
    assert '<html lang="ko"' in await forged.text()
    assert await _queued(bus) == []
