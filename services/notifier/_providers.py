"""Where notifications go. The development outbox is the default provider."""

from __future__ import annotations

import uuid
from typing import Protocol

from contracts import Contact
from services.notifier._messages import Rendered
from vaxrec.db import Connection


class Provider(Protocol):
    """Sends one notification; returns the provider's message id."""

    name: str

    async def send(
        self,
        conn: Connection,
        event_id: uuid.UUID,
        contact: Contact,
        language: str,
        message: Rendered,
    ) -> str: ...


class OutboxProvider:
    """Stores messages in notify.dev_outbox instead of sending them (development).

    It writes on the caller's connection, inside the transaction that marks the delivery sent,
    so a message lands in the outbox exactly once however often the event is redelivered.
    """

    name = "outbox"

    async def send(
        self,
        conn: Connection,
        event_id: uuid.UUID,
        contact: Contact,
        language: str,
        message: Rendered,
    ) -> str:
        row_id = await conn.fetchval(
            """
            INSERT INTO notify.dev_outbox (event_id, channel, to_address, language, subject, body)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (event_id) DO UPDATE SET event_id = EXCLUDED.event_id
            RETURNING id
            """,
            event_id,
            contact.channel,
            contact.address,
            language,
            message.subject if contact.channel == "email" else None,
            message.body,
        )
        return f"outbox-{row_id}"
