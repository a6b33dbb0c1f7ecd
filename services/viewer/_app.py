"""The viewer HTTP application: PIN page, record page and API, JWKS."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import asyncpg
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.viewer import _session as session
from services.viewer._cards import OpenedCard, Refused, card_for_session, open_card
from services.viewer._pages import Pages
from services.viewer._record import record_view
from services.viewer._settings import ViewerSettings
from services.viewer._wallet import GoogleWallet, GoogleWalletSettings
from vaxrec.health import Readiness, add_health_routes
from vaxrec.i18n import AUTONYMS, LANGUAGES, fill, page_text, text_direction
from vaxrec.metrics import http_metrics
from vaxrec.problems import invalid_fields, problem, problem_middleware
from vaxrec.shc import render_qr_png

SETTINGS = web.AppKey("settings", ViewerSettings)
POOL = web.AppKey("pool", asyncpg.Pool)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
NONCE = web.RequestKey("nonce", str)
MAX_BODY = 4 * 1024
SMART_HEALTH_CARD = "application/smart-health-card"
STATIC = Path(__file__).parent / "static"


class PinBody(BaseModel):
    """POST /api/v1/cards/{token}."""

    model_config = ConfigDict(extra="forbid")
    pin: str = Field(pattern=r"^[0-9]{4}$")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    nonce = secrets.token_urlsafe(16)
    request[NONCE] = nonce
    response = await handler(request)
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    )
    # The link token is in the URL: it must never leave in a Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def _open(request: web.Request, pin: str) -> OpenedCard | Refused:
    settings = request.app[SETTINGS]
    return await open_card(
        request.app[POOL],
        settings.pepper.get_secret_value().encode(),
        request.match_info["token"],
        pin,
        max_attempts=settings.max_pin_attempts,
    )


async def _api_open(request: web.Request) -> OpenedCard | web.Response:
    """The card for an API call's link and PIN, or the problem to answer instead."""
    try:
        body = PinBody.model_validate(json.loads(await request.read()))
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            return invalid_fields(exc)
        return problem(400, "Malformed JSON", "The request body is not valid JSON.")
    opened = await _open(request, body.pin)
    if isinstance(opened, Refused):
        # Unknown, expired, locked and wrong PIN look the same to an API caller.
        return problem(404, "Not Found", "No card for this link and PIN.")
    return opened


async def api_open_card(request: web.Request) -> web.Response:
    opened = await _api_open(request)
    if isinstance(opened, web.Response):
        return opened
    return web.json_response(record_view(opened), headers={"Cache-Control": "no-store"})


def _download(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _card_file(card: OpenedCard) -> web.Response:
    """The `.smart-health-card` file: every dose, whatever the QR had to leave out."""
    body = json.dumps({"verifiableCredential": [card.file_jws]}).encode()
    return _download(body, SMART_HEALTH_CARD, "vaccination-record.smart-health-card")


async def api_card_file(request: web.Request) -> web.Response:
    opened = await _api_open(request)
    return opened if isinstance(opened, web.Response) else _card_file(opened)


async def _session_card(request: web.Request) -> OpenedCard | None:
    """The card of a link whose PIN was entered in this browser within the session's life."""
    pepper = request.app[SETTINGS].pepper.get_secret_value().encode()
    card = await card_for_session(request.app[POOL], pepper, request.match_info["token"])
    cookie = request.cookies.get(session.COOKIE, "")
    if card is None or not session.valid(pepper, cookie, card.card_id):
        return None
    return card


async def page_card_file(request: web.Request) -> web.StreamResponse:
    card = await _session_card(request)
    if card is None:
        raise web.HTTPSeeOther(f"/c/{request.match_info['token']}")
    return _card_file(card)


async def page_qr_png(request: web.Request) -> web.StreamResponse:
    card = await _session_card(request)
    if card is None:
        raise web.HTTPSeeOther(f"/c/{request.match_info['token']}")
    return _download(render_qr_png(card.jws), "image/png", "vaccination-record-qr.png")


def _page(
    request: web.Request,
    template: str,
    status: int,
    *,
    language: str,
    strings: str,
    **context: object,
) -> web.Response:
    """A page in `language`: its text from locales/<language>/page.<strings>.txt, with the
    language links, the request's CSP nonce and the issuer's name."""
    html = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            lang=language,
            dir=text_direction(language),
            t=page_text(language, strings),
            fill=fill,
            languages=[(tag, AUTONYMS[tag]) for tag in LANGUAGES],
            path=request.path,
            nonce=request[NONCE],
            issuer_name=request.app[SETTINGS].issuer_name,
            **context,
        )
    )
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Content-Language": language},
    )


async def jwks(request: web.Request) -> web.Response:
    rows = await request.app[POOL].fetch(
        "SELECT public_jwk FROM cards.issuer_keys WHERE state IN ('active', 'retired') ORDER BY kid"
    )
    max_age = request.app[SETTINGS].jwks_max_age_s
    return web.json_response(
        {"keys": [r["public_jwk"] for r in rows]},
        headers={
            "Access-Control-Allow-Origin": "*",
            "Cache-Control": f"public, max-age={max_age}",
        },
    )


async def dev_outbox(request: web.Request) -> web.Response:
    rows = await request.app[POOL].fetch(
        "SELECT to_address AS to, channel, language, subject, body, created_at "
        "FROM notify.dev_outbox ORDER BY id DESC LIMIT 100"
    )
    return web.json_response(
        [{**dict(r), "created_at": r["created_at"].isoformat()} for r in rows],
        headers={"Cache-Control": "no-store"},
    )


def create_app(
    settings: ViewerSettings,
    pool: asyncpg.Pool,
    readiness: Readiness,
    wallet: GoogleWalletSettings | None = None,
) -> web.Application:
    app = web.Application(
        middlewares=[http_metrics, security_headers, problem_middleware], client_max_size=MAX_BODY
    )
    app[SETTINGS] = settings
    app[POOL] = pool
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.PackageLoader("services.viewer", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_post("/api/v1/cards/{token}", api_open_card)
    app.router.add_post("/api/v1/cards/{token}/file", api_card_file)
    app.router.add_get("/c/{token}/file", page_card_file)
    app.router.add_get("/c/{token}/qr.png", page_qr_png)
    wallet = wallet if wallet is not None else GoogleWalletSettings()
    pages = Pages(
        settings,
        pool,
        _page,
        lambda request: request[NONCE],
        GoogleWallet(wallet) if wallet.configured else None,
    )
    app.router.add_get("/c/{token}", pages.pin_page)
    app.router.add_post("/c/{token}", pages.pin_submit)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/.well-known/jwks.json", jwks)
    # Imported here: both modules use this one's app keys and page renderer.
    from services.viewer._crl import crl_handler
    from services.viewer._verify_page import add_verify_routes

    app.router.add_routes([crl_handler(pool, settings)])
    add_verify_routes(app)
    if settings.environment == "development":
        # The development outbox holds messages in clear: never routed outside development.
        app.router.add_get("/dev/outbox", dev_outbox)
    add_health_routes(app, readiness)
    return app
