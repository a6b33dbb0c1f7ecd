"""Transactional outbox: write the state change and its message in one transaction; a relay
publishes with confirms and deletes the row.

Deleting (rather than marking sent) keeps the table small and means a card.issued message,
which carries the resident's link token, does not stay in the database once it is on the bus.
A crash after the publish and before the delete publishes the row again on restart; consumers
are idempotent on the message id, which is why that is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

import asyncpg
import structlog

from contracts import Envelope
from vaxrec.bus import Publisher
from vaxrec.db import Connection

log = structlog.get_logger("vaxrec.outbox")

CHANNEL = "vaxrec_outbox"
BATCH = 100


async def add_to_outbox(conn: Connection, envelope: Envelope[Any]) -> None:
    """Stage `envelope` inside the caller's transaction; it is published after commit."""
    await conn.execute(
        "INSERT INTO cards.outbox (message_id, routing_key, body) VALUES ($1, $2, $3) "
        "ON CONFLICT (message_id) DO NOTHING",
        envelope.message_id,
        envelope.routing_key,
        envelope.model_dump_json().encode(),
    )
    # Delivered at commit, so the relay wakes as soon as the row is visible.
    await conn.execute(f"NOTIFY {CHANNEL}")


class OutboxRelay:
    """Publishes outbox rows in order; several replicas share the work with SKIP LOCKED."""

    def __init__(self, pool: asyncpg.Pool, publisher: Publisher, *, poll_s: float = 1.0) -> None:
        self._pool = pool
        self._publisher = publisher
        self._poll_s = poll_s
        self._wake = asyncio.Event()

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, message_id, routing_key, body FROM cards.outbox "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                BATCH,
            )
            if not rows:
                return 0
            await asyncio.gather(*(self._publish(row) for row in rows))
            await conn.execute(
                "DELETE FROM cards.outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
        return len(rows)

    async def _publish(self, row: asyncpg.Record) -> None:
        head = json.loads(row["body"])
        await self._publisher.publish_raw(
            row["routing_key"],
            row["body"],
            message_id=row["message_id"],
            correlation_id=uuid.UUID(head["correlation_id"]),
            message_type=head["type"],
        )

    async def run(self) -> None:
        """Relay until cancelled: woken by NOTIFY, and polling as a fallback."""

        def wake(*_: object) -> None:
            self._wake.set()

        listener = await self._pool.acquire()
        try:
            await listener.add_listener(CHANNEL, wake)
            while True:
                try:
                    while await self.relay_once() == BATCH:
                        pass
                except Exception as exc:
                    # The broker or database is away: keep the rows and try again shortly.
                    log.warning("outbox.relay_failed", error=type(exc).__name__)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(CHANNEL, wake)
            await self._pool.release(listener)
