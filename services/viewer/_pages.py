"""The resident's pages behind a link: the PIN page, the record page, and why a link won't open.

Pages open in the language the resident asked in (kept on the card), unless the page's
language switcher chose another (`?lang=`). Unlike the API, pages say why a link does not open
(unknown, expired, locked) and how many PIN tries are left: only the holder of the link's
256-bit token sees them. Wrong PINs are counted by `open_card`, the API's own code, so pages
and API share one attempt budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from aiohttp import web

from services.viewer import _session as session
from services.viewer._cards import (
    OpenedCard,
    Refusal,
    Refused,
    card_for_session,
    link_state,
    open_card,
)
from services.viewer._record import record_view
from services.viewer._settings import ViewerSettings
from services.viewer._wallet import GoogleWallet, apple_health_link
from vaxrec import csrf
from vaxrec.i18n import fill, page_text, pick_language
from vaxrec.shc import render_qr_svg

#: `_app._page`: renders a template in a language, with the request's CSP nonce and the issuer.
Render = Callable[..., web.Response]

RECORD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_REFUSAL_KEY = {
    Refusal.UNKNOWN: "unknown",
    Refusal.EXPIRED: "expired",
    Refusal.LOCKED: "locked",
    Refusal.REVOKED: "revoked",
}


class Pages:
    """GET and POST /c/{token}."""

    def __init__(
        self,
        settings: ViewerSettings,
        pool: asyncpg.Pool,
        render: Render,
        nonce: Callable[[web.Request], str],
        wallet: GoogleWallet | None,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._render = render
        self._nonce = nonce
        self._wallet = wallet
        self._pepper = settings.pepper.get_secret_value().encode()

    def _page(
        self, request: web.Request, template: str, language: str, status: int, **context: Any
    ) -> web.Response:
        return self._render(
            request, template, status, language=language, strings="viewer", **context
        )

    def _pin_page(
        self, request: web.Request, language: str, status: int = 200, error: str | None = None
    ) -> web.Response:
        token = csrf.token(request.cookies.get(session.CSRF_COOKIE, ""))
        response = self._page(
            request,
            "pin.html",
            language,
            status,
            token=request.match_info["token"],
            error=error,
            csrf_field=session.CSRF_FIELD,
            csrf_token=token,
        )
        response.set_cookie(
            session.CSRF_COOKIE,
            token,
            path=request.path,
            httponly=True,
            secure=request.secure,
            samesite="Strict",
        )
        return response

    def _refused(self, request: web.Request, language: str, refusal: Refusal) -> web.Response:
        message = page_text(language, "viewer")[_REFUSAL_KEY[refusal]]
        return self._page(request, "refused.html", language, 404, message=message)

    def _record_page(self, request: web.Request, language: str, card: OpenedCard) -> web.Response:
        record = record_view(card)
        google = None
        if self._wallet is not None:
            google = self._wallet.save_link(
                card.card_id,
                record["qr"],
                language,
                page_text(language, "viewer")["title"],
                f"{request.scheme}://{request.host}",
            )
        response = self._page(
            request,
            "record.html",
            language,
            200,
            record=record,
            qr_svg=render_qr_svg(card.jws),
            token=request.match_info["token"],
            apple_link=apple_health_link(record["qr"]),
            google_link=google,
        )
        # The one page with a script (the print button): a file from this origin, never inline.
        response.headers["Content-Security-Policy"] = RECORD_CSP.format(nonce=self._nonce(request))
        return response

    async def pin_page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        link = await link_state(self._pool, self._pepper, token)
        chosen = request.query.get("lang")
        language = pick_language(chosen or (link.language if link else ""))
        if link is None:
            return self._refused(request, language, Refusal.UNKNOWN)
        if link.refusal is not None:
            return self._refused(request, language, link.refusal)
        # Within the PIN session (reload, language switch) the record shows without the PIN.
        card = await card_for_session(self._pool, self._pepper, token)
        cookie = request.cookies.get(session.COOKIE, "")
        if card is not None and session.valid(self._pepper, cookie, card.card_id):
            return self._record_page(request, language, card)
        return self._pin_page(request, language)

    async def pin_submit(self, request: web.Request) -> web.Response:
        form = await request.post()
        pin = str(form.get("pin", ""))
        language = pick_language(str(form.get("lang", "")))
        t = page_text(language, "viewer")
        cookie = request.cookies.get(session.CSRF_COOKIE, "")
        submitted = str(form.get(session.CSRF_FIELD, ""))
        if not session.csrf_passes(request.headers, request.host, cookie, submitted):
            return self._pin_page(request, language, 403, t["err_form_expired"])
        if not (pin.isascii() and pin.isdigit() and len(pin) == 4):
            return self._pin_page(request, language, 422, t["err_pin_format"])
        opened = await open_card(
            self._pool,
            self._pepper,
            request.match_info["token"],
            pin,
            max_attempts=self._settings.max_pin_attempts,
        )
        if isinstance(opened, Refused):
            if opened.reason is Refusal.WRONG_PIN:
                left = opened.attempts_left
                wrong = fill(t["err_pin_wrong"], {"tries": str(left)})
                error = t["err_pin_last"] if left == 1 else wrong
                return self._pin_page(request, language, 403, error)
            return self._refused(request, language, opened.reason)
        response = self._record_page(request, language, opened)
        response.set_cookie(
            session.COOKIE,
            session.issue(self._pepper, opened.card_id),
            max_age=session.LIFETIME_S,
            path=request.path,
            httponly=True,
            secure=request.secure,
            samesite="Strict",
        )
        return response
