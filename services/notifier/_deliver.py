"""One delivery per notification event, whatever the broker redelivers."""

from __future__ import annotations

import uuid
from typing import Literal

import asyncpg
import structlog

from contracts import Contact
from services.notifier._messages import Rendered
from services.notifier._providers import Provider

log = structlog.get_logger("notifier")


async def deliver(
    pool: asyncpg.Pool,
    provider: Provider,
    *,
    event_id: uuid.UUID,
    request_id: uuid.UUID,
    kind: Literal["card_issued", "unmatched"],
    contact: Contact,
    language: str,
    message: Rendered,
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        # Locks the delivery row, so two consumers of one redelivered event cannot both send.
        state = await conn.fetchval(
            """
            INSERT INTO notify.deliveries (event_id, request_id, kind, channel, provider, state)
            VALUES ($1, $2, $3, $4, $5, 'pending')
            ON CONFLICT (event_id) DO UPDATE SET updated_at = now()
            RETURNING state
            """,
            event_id,
            request_id,
            kind,
            contact.channel,
            provider.name,
        )
        if state != "pending":
            log.info("notification.already_done", state=state)
            return
        provider_id = await provider.send(conn, event_id, contact, language, message)
        await conn.execute(
            """
            UPDATE notify.deliveries
            SET state = 'sent', provider_message_id = $2, attempts = attempts + 1,
                updated_at = now()
            WHERE event_id = $1
            """,
            event_id,
            provider_id,
        )
    log.info("notification.sent", kind=kind, channel=contact.channel, provider=provider.name)
