"""GET/POST /verify: paste a `shc:/` text or upload a photo of the QR code, see the verdict.

The viewer trusts only its own issuer and checks cards against the keys and CRLs in its
database, the same ones it publishes. The form is multipart (a photo is far larger than the
app's small request-body limit), read here part by part with limits of its own. A caller that
asks for JSON gets `vaxrec.shc.as_json` or a problem+json; a browser gets a page, and a bad
input gets a page that says what to fix, never a 500.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.viewer._app import POOL, SETTINGS, _page
from services.viewer._crl import IssuerRecords
from vaxrec.i18n import page_text, request_language
from vaxrec.problems import invalid_fields, problem
from vaxrec.shc import (
    InvalidCard,
    as_json,
    jws_from_qr_texts,
    jws_from_text,
    reason_text,
    unreadable_json,
    verify,
)
from vaxrec.shc._input import qr_texts_from_image

MAX_TEXT = 16 * 1024  # a chunked card's three QR texts are under 8 KiB
DECODES = web.AppKey("verify_decodes", asyncio.Semaphore)
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


class TooLarge(Exception):  # noqa: N818 - a signal inside this module, not an API error
    """A field over its limit."""


class VerifyForm(BaseModel):
    """POST /verify: exactly one of a pasted text or a photo."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    photo: bytes | None = None

    @model_validator(mode="after")
    def _one_input(self) -> VerifyForm:
        if self.text is not None and not self.text.strip():
            self.text = None
        if self.photo is not None and not self.photo:
            self.photo = None
        if (self.text is None) == (self.photo is None):
            raise ValueError("give either a shc:/ text or a photo of the QR code")
        return self


async def _read_part(part: BodyPartReader, limit: int) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise TooLarge(part.name or "field")
    return bytes(data)


async def _fields(request: web.Request) -> dict[str, Any]:
    """The form's fields; a body that is not the form it claims to be is a 400, not a 500."""
    try:
        return await _form_fields(request)
    except (BadHttpMessage, ValueError):  # aiohttp's multipart reader raises both
        raise web.HTTPBadRequest(reason="Malformed form") from None


async def _form_fields(request: web.Request) -> dict[str, Any]:
    """The form's fields, each read only up to its limit."""
    photo_limit = request.app[SETTINGS].verify_max_photo_bytes
    if request.content_type == _MULTIPART:
        fields: dict[str, Any] = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name in fields or len(fields) >= 2:
                raise web.HTTPBadRequest(reason="Send one text field or one photo")
            if part.name == "photo":
                # A file input left empty still sends an empty part.
                fields["photo"] = await _read_part(part, photo_limit)
            else:
                # Any other name is read (within the text limit) for the model to refuse.
                value = await _read_part(part, MAX_TEXT)
                fields[part.name or ""] = value.decode("utf-8", "replace")
        return fields
    if request.content_type == _FORM:
        body = await request.content.read(MAX_TEXT * 3 + 1)  # percent-encoding triples
        if len(body) > MAX_TEXT * 3:
            raise TooLarge("text")
        form = dict(parse_qsl(body.decode("ascii", "replace"), keep_blank_values=True))
        if len(form.get("text", "")) > MAX_TEXT:
            raise TooLarge("text")
        return form
    raise web.HTTPUnsupportedMediaType(reason="Send the form as multipart/form-data")


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


async def _cards(request: web.Request, form: VerifyForm) -> list[str]:
    if form.text is not None:
        return jws_from_text(form.text)
    assert form.photo is not None
    # Decoding a photo is CPU work: off the event loop, and only a few at a time.
    async with request.app[DECODES]:
        texts = await asyncio.to_thread(qr_texts_from_image, form.photo)
    return jws_from_qr_texts(texts)


async def _verdicts(request: web.Request, cards: list[str]) -> list[dict[str, Any]]:
    settings = request.app[SETTINGS]
    records = IssuerRecords(request.app[POOL], settings.issuer)
    reports = []
    for jws in cards:
        result = await verify(
            jws,
            keys=records,
            trusted_issuers={settings.issuer},
            now=time.time(),
            crl=records,
            local_http=settings.environment != "production",
        )
        name = settings.issuer_name if result.issuer == settings.issuer else None
        reports.append(as_json(result, issuer_name=name))
    return reports


def _verify_page(
    request: web.Request, status: int, *, error: str | None, reports: list[dict[str, Any]]
) -> web.Response:
    """The page in the language asked for (?lang=, else the browser's); the verdict's
    sentences too, from the same strings as `vaxrec verify`."""
    language = request_language(
        request.query.get("lang"), request.headers.get("Accept-Language", "")
    )
    return _page(
        request,
        "verify.html",
        status,
        language=language,
        strings="verify",
        error=page_text(language, "verify")[error] if error else None,
        reports=reports,
        reason_text=functools.partial(reason_text, language=language),
    )


async def verify_page(request: web.Request) -> web.Response:
    return _verify_page(request, 200, error=None, reports=[])


async def verify_submit(request: web.Request) -> web.Response:
    as_json_reply = _wants_json(request)
    try:
        form = VerifyForm.model_validate(await _fields(request))
    except TooLarge:
        if as_json_reply:
            return problem(413, "Payload Too Large", "The text or photo is too large.")
        return _verify_page(request, 413, error="err_too_large", reports=[])
    except ValidationError as exc:
        if as_json_reply:
            return invalid_fields(exc)
        return _verify_page(request, 422, error="err_one_input", reports=[])
    try:
        cards = await _cards(request, form)
    except InvalidCard as err:
        reports = [unreadable_json(err.reason)]
    else:
        reports = await _verdicts(request, cards)
    if as_json_reply:
        return web.json_response({"cards": reports}, headers={"Cache-Control": "no-store"})
    return _verify_page(request, 200, error=None, reports=reports)


def add_verify_routes(app: web.Application) -> None:
    """Register /verify on the viewer."""
    app[DECODES] = asyncio.Semaphore(2)
    app.router.add_get("/verify", verify_page)
    app.router.add_post("/verify", verify_submit)
