"""The intake HTTP application."""

from __future__ import annotations

import asyncio
import json
import uuid

import structlog
from aiohttp import web
from pydantic import ValidationError

from contracts import Contact, Envelope, KeyedPin, RecordRequestedV1
from services.intake._form import add_form_routes, security_headers
from services.intake._models import RecordRequest
from services.intake._settings import IntakeSettings
from vaxrec.bus import Publisher
from vaxrec.hashing import new_pin_salt, pin_hash
from vaxrec.health import Readiness, add_health_routes
from vaxrec.ids import new_request_id
from vaxrec.metrics import http_metrics
from vaxrec.problems import invalid_fields, problem, problem_middleware

log = structlog.get_logger("intake")

SETTINGS = web.AppKey("settings", IntakeSettings)
PUBLISHER = web.AppKey("publisher", Publisher)
MAX_BODY = 16 * 1024


def to_message(body: RecordRequest, request_id: uuid.UUID, pepper: bytes) -> RecordRequestedV1:
    salt = new_pin_salt()
    contact = (
        Contact(channel="sms", address=body.phone)
        if body.phone is not None
        else Contact(channel="email", address=body.email or "")
    )
    return RecordRequestedV1(
        request_id=request_id,
        first_name=body.first_name,
        last_name=body.last_name,
        date_of_birth=body.date_of_birth,
        contact=contact,
        pin=KeyedPin(hash=pin_hash(pepper, salt, body.pin).hex(), salt=salt.hex()),
        language=body.language,
    )


async def accept(app: web.Application, body: RecordRequest) -> uuid.UUID | None:
    """Publish a valid request: its id once the broker confirmed it, or None if it did not.

    The JSON API and the HTML form both come here, so they queue exactly the same message.
    """
    settings = app[SETTINGS]
    request_id = new_request_id()  # carries the time of the request to the last service
    message = to_message(body, request_id, settings.pepper.get_secret_value().encode())
    with structlog.contextvars.bound_contextvars(correlation_id=str(request_id)):
        try:
            # asyncio.timeout, not wait_for: no extra task per request on the hot path.
            async with asyncio.timeout(settings.publish_timeout_s):
                await app[PUBLISHER].publish(Envelope.first(message, request_id))
        except Exception as exc:
            log.warning("request.not_accepted", error=type(exc).__name__)
            return None
        log.info("request.accepted", channel=message.contact.channel)
    return request_id


async def create_record_request(request: web.Request) -> web.Response:
    try:
        raw = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return problem(400, "Malformed JSON", "The request body is not valid JSON.")
    if not isinstance(raw, dict):
        return problem(400, "Malformed JSON", "The request body must be a JSON object.")
    try:
        body = RecordRequest.model_validate(raw)
    except ValidationError as exc:
        return invalid_fields(exc)

    request_id = await accept(request.app, body)
    if request_id is None:
        return problem(
            503,
            "Service Unavailable",
            "The request could not be queued. Nothing was recorded; please try again.",
            headers={"Retry-After": "5"},
        )
    # The same answer whatever the registry holds: only the phone or email learns the outcome.
    return web.json_response({"request_id": str(request_id)}, status=202)


def create_app(
    settings: IntakeSettings, publisher: Publisher, readiness: Readiness
) -> web.Application:
    app = web.Application(
        middlewares=[http_metrics, security_headers, problem_middleware], client_max_size=MAX_BODY
    )
    app[SETTINGS] = settings
    app[PUBLISHER] = publisher
    app.router.add_post("/api/v1/record-requests", create_record_request)
    add_form_routes(app, accept)
    add_health_routes(app, readiness)
    return app
