"""Local fakes of the Twilio Messages API and SendGrid v3 mail send, for the real SDKs to call.

Each checks what the real service checks (path, credentials, the fields it requires) and can be
told how to answer the next requests: success, 429, 500, a slow answer (a client timeout) and,
for Twilio, the permanent errors 21211, 21610 and 21614 with Twilio's JSON error body.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Self

from aiohttp import web

#: How a fake answers a request: "ok", "429", "500", "slow" or a Twilio error code.
Answer = str

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_TWILIO_ERRORS = {
    "21211": (400, "The 'To' number is not a valid phone number."),
    "21610": (400, "Attempt to send to unsubscribed recipient"),
    "21614": (400, "'To' number is not a valid mobile number"),
    "21602": (400, "Message body is required."),
    "21606": (400, "The 'From' phone number provided is not a valid message-capable number."),
    "21617": (400, "The concatenated message body exceeds the 1600 character limit."),
    "20003": (401, "Authenticate"),
    "20429": (429, "Too Many Requests"),
    "20500": (500, "An internal server error has occurred"),
}


@dataclass
class Received:
    """One request a fake got, and how it answered."""

    fields: dict[str, Any]
    status: int = 0
    message_id: str | None = None
    #: When it was answered (time.monotonic()).
    answered_at: float = 0.0

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class _FakeApi:
    """An aiohttp server on a free local port with scripted answers."""

    def __init__(self, *, delay_s: float = 0.0, slow_s: float = 30.0) -> None:
        #: Every answer waits this long (a provider's latency).
        self.delay_s = delay_s
        #: A "slow" answer waits this long, longer than any client timeout in the tests.
        self.slow_s = slow_s
        self.received: list[Received] = []
        #: Set when a request arrives (before it is answered).
        self.requested = asyncio.Event()
        self._answers: collections.deque[Answer] = collections.deque()
        #: Called with each request's record once it is answered (crash tests time kills by it).
        self.on_answer: Callable[[Received], Awaitable[None]] | None = None
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests so, in order; after them, success."""
        self._answers.extend(answers)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.accepted]

    def _next_answer(self) -> Answer:
        return self._answers.popleft() if self._answers else "ok"

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            # Stopping the fake ends the wait, so a slow answer never holds up the test's end.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answered(self, record: Received, response: web.Response) -> web.Response:
        record.status = response.status
        record.answered_at = time.monotonic()
        if self.on_answer is not None:
            await self.on_answer(record)
        return response


class FakeTwilio(_FakeApi):
    """POST /2010-04-01/Accounts/{AccountSid}/Messages.json, as Twilio serves it."""

    ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
    AUTH_TOKEN = "fake-twilio-auth-token"
    FROM_NUMBER = "+15005550006"
    MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)

    def env(self) -> dict[str, str]:
        """The notifier's environment for this fake."""
        return {
            "TWILIO_ACCOUNT_SID": self.ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": self.AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": self.FROM_NUMBER,
            "TWILIO_API_BASE": self.url,
        }

    @staticmethod
    def _error(code: str) -> web.Response:
        status, text = _TWILIO_ERRORS[code]
        return web.json_response(
            {
                "code": int(code),
                "message": text,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status=status,
        )

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.ACCOUNT_SID == request.match_info["sid"] and password == self.AUTH_TOKEN

    async def _create(self, request: web.Request) -> web.Response:
        form = await request.post()
        record = Received({k: str(v) for k, v in form.items()})
        self.received.append(record)
        self.requested.set()
        answer = self._next_answer()
        await self._wait(self.slow_s if answer == "slow" else self.delay_s)
        if not self._authorized(request):
            return await self._answered(record, self._error("20003"))
        if request.content_type != "application/x-www-form-urlencoded":
            return await self._answered(record, web.Response(status=415))
        to, body = record.fields.get("To", ""), record.fields.get("Body", "")
        sender = record.fields.get("From")
        service = record.fields.get("MessagingServiceSid")
        if not _E164.match(to):
            return await self._answered(record, self._error("21211"))
        if sender is None and service is None:
            return await self._answered(record, self._error("21606"))
        if (sender is not None and sender != self.FROM_NUMBER) or (
            service is not None and service != self.MESSAGING_SERVICE_SID
        ):
            return await self._answered(record, self._error("21606"))
        if not body:
            return await self._answered(record, self._error("21602"))
        if len(body) > 1600:
            return await self._answered(record, self._error("21617"))
        if answer == "429":
            return await self._answered(record, self._error("20429"))
        if answer == "500":
            return await self._answered(record, self._error("20500"))
        if answer in _TWILIO_ERRORS:
            return await self._answered(record, self._error(answer))
        record.message_id = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC), usegmt=True)
        return await self._answered(
            record,
            web.json_response(
                {
                    "sid": record.message_id,
                    "account_sid": self.ACCOUNT_SID,
                    "messaging_service_sid": service,
                    "from": sender,
                    "to": to,
                    "body": body,
                    "status": "queued",
                    "direction": "outbound-api",
                    "num_segments": "1",
                    "num_media": "0",
                    "api_version": "2010-04-01",
                    "date_created": now,
                    "date_updated": now,
                    "date_sent": None,
                    "error_code": None,
                    "error_message": None,
                    "price": None,
                    "price_unit": "USD",
                    "uri": f"/2010-04-01/Accounts/{self.ACCOUNT_SID}/Messages/"
                    f"{record.message_id}.json",
                    "subresource_uris": {},
                },
                status=201,
            ),
        )


@dataclass
class _MailProblem:
    field: str | None
    message: str

    def response(self, status: int = 400) -> web.Response:
        return web.json_response(
            {"errors": [{"message": self.message, "field": self.field, "help": None}]},
            status=status,
        )


def check_mail(mail: Any, from_email: str) -> _MailProblem | None:
    """The v3 mail-send rules the fake enforces (those of SendGrid's that this code relies on)."""
    if not isinstance(mail, dict):
        return _MailProblem(None, "Bad Request")
    personalizations = mail.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return _MailProblem("personalizations", "The personalizations field is required.")
    for i, p in enumerate(personalizations):
        to = p.get("to") if isinstance(p, dict) else None
        if not isinstance(to, list) or not to:
            return _MailProblem(f"personalizations.{i}.to", "The to array is required.")
        for j, address in enumerate(to):
            if not _EMAIL.match(str(address.get("email", ""))):
                return _MailProblem(
                    f"personalizations.{i}.to.{j}.email", "Does not contain a valid address."
                )
    sender = mail.get("from")
    if not isinstance(sender, dict) or sender.get("email") != from_email:
        return _MailProblem("from", "The from address does not match a verified Sender.")
    if not mail.get("subject"):
        return _MailProblem("subject", "The subject is required.")
    content = mail.get("content")
    if not isinstance(content, list) or not content:
        return _MailProblem("content", "The content field is required.")
    types = [c.get("type") for c in content]
    if "text/plain" in types and types[0] != "text/plain":
        return _MailProblem("content.0.type", "The text/plain content type must be first.")
    if any(not c.get("value") for c in content):
        return _MailProblem("content", "The content value must be a string of length 1+.")
    return None


class FakeSendGrid(_FakeApi):
    """POST /v3/mail/send, as SendGrid serves it."""

    API_KEY = "SG.fake-key.fake-secret"
    FROM_EMAIL = "records@example.org"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v3/mail/send", self._send)

    def env(self) -> dict[str, str]:
        """The notifier's environment for this fake."""
        return {
            "SENDGRID_API_KEY": self.API_KEY,
            "SENDGRID_FROM_EMAIL": self.FROM_EMAIL,
            "SENDGRID_API_HOST": self.url,
        }

    async def _send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            mail = json.loads(raw)
        except ValueError:
            mail = None
        record = Received(mail if isinstance(mail, dict) else {})
        self.received.append(record)
        self.requested.set()
        answer = self._next_answer()
        await self._wait(self.slow_s if answer == "slow" else self.delay_s)
        if request.headers.get("Authorization") != f"Bearer {self.API_KEY}":
            problem = _MailProblem(
                None, "The provided authorization grant is invalid, expired, or revoked"
            )
            return await self._answered(record, problem.response(401))
        if request.content_type != "application/json":
            return await self._answered(record, _MailProblem(None, "Bad Request").response())
        problem = check_mail(mail, self.FROM_EMAIL)
        if problem is not None:
            return await self._answered(record, problem.response())
        if answer == "429":
            return await self._answered(
                record, _MailProblem(None, "too many requests").response(429)
            )
        if answer == "500":
            return await self._answered(record, web.Response(status=500))
        record.message_id = secrets.token_urlsafe(16)
        return await self._answered(
            record, web.Response(status=202, headers={"X-Message-Id": record.message_id})
        )
