"""POST /twilio/status: Twilio's delivery reports, signature-checked, onto the delivery row."""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from services.notifier._metrics import STATUS_CALLBACKS

log = structlog.get_logger("notifier")

POOL = web.AppKey("notifier_pool", asyncpg.Pool)
VALIDATOR = web.AppKey("twilio_validator", RequestValidator)
#: The address Twilio was told to call: a proxy in front of us means request.url is not it,
#: and the signature covers the exact address.
CALLBACK_URL = web.AppKey("twilio_callback_url", str)

# Reports arrive out of order (a "sent" can come after "delivered"); a report never moves a
# delivery back to an earlier stage.
_STAGES = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}
_STAGE_SQL = "CASE {column} " + " ".join(f"WHEN '{s}' THEN {n}" for s, n in _STAGES.items())
_STAGE_SQL += " ELSE 0 END"


async def record_status(
    pool: asyncpg.Pool, message_sid: str, status: str, error_code: str | None
) -> bool:
    """Store a reported status on its delivery; False if no delivery has that message id."""
    result: str = await pool.execute(
        f"""
        UPDATE notify.deliveries
        SET provider_status = $2, provider_status_at = now(),
            last_error_code = COALESCE($3, last_error_code)
        WHERE provider = 'twilio' AND provider_message_id = $1
          AND {_STAGE_SQL.format(column="$2")} >= {_STAGE_SQL.format(column="provider_status")}
        """,  # noqa: S608 - the interpolated text is the constant stage table above
        message_sid,
        status,
        f"twilio-{error_code}" if error_code else None,
    )
    if result.endswith(" 0"):
        exists = await pool.fetchval(
            "SELECT 1 FROM notify.deliveries WHERE provider = 'twilio' "
            "AND provider_message_id = $1",
            message_sid,
        )
        return exists is not None
    return True


async def twilio_status(request: web.Request) -> web.Response:
    """One status report from Twilio."""
    form = await request.post()
    validator: Any = request.app[VALIDATOR]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not validator.validate(request.app[CALLBACK_URL], form, signature):
        STATUS_CALLBACKS.labels("invalid_signature").inc()
        raise web.HTTPForbidden()
    sid, status = form.get("MessageSid"), form.get("MessageStatus")
    if not isinstance(sid, str) or not isinstance(status, str):
        raise web.HTTPBadRequest()
    error = form.get("ErrorCode")
    known = await record_status(
        request.app[POOL], sid, status.lower(), error if isinstance(error, str) and error else None
    )
    STATUS_CALLBACKS.labels("updated" if known else "unknown").inc()
    log.info("notification.status", status=status.lower(), known=known)
    # 204 either way: an unknown id is not Twilio's fault, and an error makes it retry.
    return web.Response(status=204)


def add_status_route(
    app: web.Application, pool: asyncpg.Pool, auth_token: str, callback_url: str
) -> None:
    """Serve POST /twilio/status on `app`."""
    app[POOL] = pool
    app[VALIDATOR] = RequestValidator(auth_token)
    app[CALLBACK_URL] = callback_url
    app.router.add_post("/twilio/status", twilio_status)
