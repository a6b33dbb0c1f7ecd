"""Where notifications go: one small Protocol, the development outbox and the sandbox.

A provider either returns its id for the message or raises one of::

    SendError                       the provider did not take the message (`code` says why,
    │                               and never holds the contact or the text)
    ├── TransientSendError          429, 5xx, timeout, connection: the broker retries with
    │                               back-off, then parks
    └── PermanentSendError          retrying cannot help; parked at once for an operator (bad
        │                           credentials, a sender the account does not own, a request
        │                           we built wrong): once fixed, replaying it sends it
        └── RecipientRejectedError  the recipient cannot get it (invalid or landline number,
                                    unsubscribed, malformed address): the delivery is
                                    `failed` and the event acked, since no one can fix it
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import structlog

from services.notifier._messages import Channel, Rendered
from services.notifier._segments import count_segments

log = structlog.get_logger("notifier")


class SendError(Exception):
    """The provider did not take the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class TransientSendError(SendError):
    """Worth trying again later."""


class PermanentSendError(SendError):
    """Retrying the same request cannot succeed."""


class RecipientRejectedError(PermanentSendError):
    """The recipient's address cannot receive the message."""


@dataclass(frozen=True)
class Outgoing:
    """One message for one recipient."""

    event_id: uuid.UUID
    channel: Channel
    to: str
    message: Rendered


class Provider(Protocol):
    """Sends one message; returns the provider's id for it."""

    name: str

    async def send(self, outgoing: Outgoing) -> str: ...


class OutboxProvider:
    """Stores messages in notify.dev_outbox instead of sending them (development).

    The row is unique on the event, so a message lands in the outbox once however often the
    event is redelivered, with or without the delivery's own bookkeeping.
    """

    name = "outbox"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def send(self, outgoing: Outgoing) -> str:
        row_id = await self._pool.fetchval(
            """
            INSERT INTO notify.dev_outbox (event_id, channel, to_address, language, subject, body)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (event_id) DO UPDATE SET event_id = EXCLUDED.event_id
            RETURNING id
            """,
            outgoing.event_id,
            outgoing.channel,
            outgoing.to,
            outgoing.message.language,
            outgoing.message.subject,
            outgoing.message.text,
        )
        return f"outbox-{row_id}"


class SandboxProvider:
    """Sends nothing; logs what would have gone out, without any personal data."""

    name = "sandbox"

    async def send(self, outgoing: Outgoing) -> str:
        message = outgoing.message
        if outgoing.channel == "sms":
            segments = count_segments(message.text)
            log.info(
                "notification.sandbox",
                channel="sms",
                language=message.language,
                kind=message.kind,
                text_chars=len(message.text),
                encoding=segments.encoding,
                segments=segments.count,
            )
        else:
            log.info(
                "notification.sandbox",
                channel="email",
                language=message.language,
                kind=message.kind,
                subject_chars=len(message.subject or ""),
                text_chars=len(message.text),
                html_chars=len(message.html or ""),
            )
        return f"sandbox-{outgoing.event_id}"
