"""The resident's request form: the same request as the JSON API, as HTML pages.

The form works without JavaScript (the server checks everything and shows each error next to
its field); `static/form.js` checks as the resident types, from the same rules the server
uses (the PIN table and the patterns are rendered into the page from `_models`). A valid post
goes through the JSON API's own `accept`, then redirects to a "received" page that is the
same whatever the registry holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from services.intake import _csrf as csrf
from services.intake._models import _EMAIL, _PHONE, REFUSED_PINS, RecordRequest, pin_rule
from vaxrec.i18n import (
    AUTONYMS,
    LANGUAGES,
    page_text,
    request_language,
    text_direction,
)

Accept = Callable[[web.Application, RecordRequest], Awaitable[uuid.UUID | None]]

TEMPLATES = web.AppKey("form_templates", jinja2.Environment)
ACCEPT = web.AppKey[Accept]("form_accept")
STATIC = Path(__file__).parent / "static"
#: The order errors are listed in, which is the order of the fields on the page.
FIELDS = ("first_name", "last_name", "date_of_birth", "contact", "phone", "email", "pin", "consent")
#: Strings the page's script shows; the rest of the page is rendered on the server.
SCRIPT_STRINGS = (
    "err_first_name",
    "err_last_name",
    "err_date_of_birth",
    "err_date_future",
    "err_date_early",
    "err_contact",
    "err_phone",
    "err_email",
    "err_pin_digits",
    "err_pin_same",
    "err_pin_ascending",
    "err_consent",
)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _language(request: web.Request, chosen: str | None = None) -> str:
    """The form's language: the one chosen, else the switcher's, else the browser's first."""
    return request_language(
        chosen or request.query.get("lang"), request.headers.get("Accept-Language", "")
    )


def _render(
    request: web.Request, template: str, language: str, status: int = 200, **context: Any
) -> web.Response:
    html = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            lang=language,
            dir=text_direction(language),
            t=page_text(language, "intake"),
            languages=[(tag, AUTONYMS[tag]) for tag in LANGUAGES],
            path=request.path,
            **context,
        )
    )
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        # A re-shown form holds what the resident typed: no cache keeps it.
        headers={"Cache-Control": "no-store", "Content-Language": language},
    )


def _form_page(
    request: web.Request,
    language: str,
    *,
    status: int = 200,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    unavailable: bool = False,
) -> web.Response:
    token = csrf.token_for(request)
    t = page_text(language, "intake")
    response = _render(
        request,
        "form.html",
        language,
        status,
        values=dict(values or {}),
        errors=dict(errors or {}),
        unavailable=unavailable,
        csrf_field=csrf.FIELD,
        csrf_token=token,
        today=date.today().isoformat(),
        refused_pins=REFUSED_PINS,
        phone_pattern=_PHONE.pattern,
        email_pattern=_EMAIL.pattern,
        script_strings={key: t[key] for key in SCRIPT_STRINGS},
    )
    csrf.remember(request, response, token)
    return response


async def form_page(request: web.Request) -> web.Response:
    return _form_page(request, _language(request))


def _date_error(message: str) -> str:
    if "future" in message:
        return "err_date_future"
    if "1900" in message:
        return "err_date_early"
    return "err_date_of_birth"


def _errors(exc: ValidationError, pin: str) -> dict[str, str]:
    """The message key of each field's first error (messages only: never a typed value)."""
    errors: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        field = str(err["loc"][0]) if err["loc"] else "contact"
        if field in errors or field not in FIELDS:
            continue
        if field == "date_of_birth":
            errors[field] = _date_error(err["msg"])
        elif field == "pin":
            errors[field] = f"err_pin_{pin_rule(pin) or 'digits'}"
        else:
            errors[field] = f"err_{field}"
    return errors


def _request_body(form: Mapping[str, str], language: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": form.get("first_name", ""),
        "last_name": form.get("last_name", ""),
        "date_of_birth": form.get("date_of_birth", "").strip() or None,
        "pin": form.get("pin", ""),
        "consent": form.get("consent") == "yes",
        "language": language,
    }
    channel = form.get("contact")
    if channel == "sms":
        body["phone"] = form.get("phone", "")
    elif channel == "email":
        body["email"] = form.get("email", "")
    return body


async def submit(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    form = {k: v for k, v in posted.items() if isinstance(v, str)}
    # A language link (form.js) posts the form with the language to show it in.
    switch = form.get("switch_language")
    language = _language(request, switch or form.get("language"))
    # Everything the resident typed comes back on an error page, except the PIN.
    values = {k: form.get(k, "") for k in FIELDS if k not in ("pin", "consent")}
    values["consent"] = "yes" if form.get("consent") == "yes" else ""
    if not csrf.passes(request, form.get(csrf.FIELD, "")):
        errors = {"form": "err_form_expired"}
        return _form_page(request, language, status=403, values=values, errors=errors)
    if switch:
        # The same form in the language asked for, with what was typed but the PIN; nothing
        # is checked or sent.
        return _form_page(request, language, values=values)
    try:
        body = RecordRequest.model_validate(_request_body(form, language))
    except ValidationError as exc:
        errors = _errors(exc, form.get("pin", ""))
        if form.get("contact") not in ("sms", "email"):
            errors = {**errors, "contact": "err_contact"}
        ordered = {field: errors[field] for field in FIELDS if field in errors}
        return _form_page(request, language, status=422, values=values, errors=ordered)
    if await request.app[ACCEPT](request.app, body) is None:
        response = _form_page(request, language, status=503, values=values, unavailable=True)
        response.headers["Retry-After"] = "5"
        return response
    # Post/redirect/get: reloading the "received" page does not send the request again.
    raise web.HTTPSeeOther(f"/received?lang={language}")


async def received_page(request: web.Request) -> web.Response:
    # No request id, name or contact on this page: it is the same for everyone who asks.
    return _render(request, "received.html", _language(request))


def add_form_routes(app: web.Application, accept: Accept) -> None:
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.PackageLoader("services.intake", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    app[ACCEPT] = accept
    app.router.add_get("/", form_page)
    app.router.add_post("/", submit)
    app.router.add_get("/received", received_page)
    app.router.add_static("/static/", STATIC)
