"""Writing issued cards: the card and its card.issued.v1 outbox row in one statement.

At hundreds of cards a second the cost of a write is its round trips (acquire, BEGIN, two
INSERTs, NOTIFY, COMMIT, the pool's reset), not its work. So cards signed concurrently are
group-committed: one statement inserts a batch of cards, stages the outbox rows of exactly
those that were inserted, and wakes the relay. One statement is one transaction, so a card is
never committed without its event, nor an event without its card.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from contracts import CardIssuedV1, Envelope
from vaxrec.group_commit import GroupCommit
from vaxrec.outbox import CHANNEL


@dataclass(frozen=True)
class CardRow:
    card_id: uuid.UUID
    request_id: uuid.UUID
    registry_id: str
    kid: str
    rid: str
    jws: str
    file_jws: str | None
    pin_hash: bytes
    pin_salt: bytes
    token_hash: bytes
    language: str
    doses_total: int
    doses_in_qr: int
    expires_at: datetime
    issued: Envelope[CardIssuedV1]


_INSERT = """
WITH card AS (
    INSERT INTO cards.issued_cards (
        card_id, request_id, registry_id, kid, rid, jws, file_jws, pin_hash, pin_salt,
        token_hash, language, doses_total, doses_in_qr, expires_at
    )
    SELECT * FROM unnest(
        $1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::bytea[], $9::bytea[], $10::bytea[], $11::text[], $12::int[], $13::int[],
        $14::timestamptz[]
    )
    -- A redelivered request (or two deliveries of it at once) gets no second card or event.
    ON CONFLICT (request_id) DO NOTHING
    RETURNING card_id
), staged AS (
    INSERT INTO cards.outbox (message_id, routing_key, body)
    SELECT e.message_id, e.routing_key, e.body
    FROM unnest($15::uuid[], $16::text[], $17::bytea[], $1::uuid[])
        AS e(message_id, routing_key, body, card_id)
    JOIN card USING (card_id)
    ON CONFLICT (message_id) DO NOTHING
    RETURNING 1
)
SELECT card_id, pg_notify($18, '') FROM card
"""


class CardStore:
    """Commits issued cards in batches; each caller learns whether its card was inserted."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._writes: GroupCommit[CardRow, bool] = GroupCommit(self._write, name="issued-cards")

    async def insert(self, row: CardRow) -> bool:
        """True once committed; False when a card for the request already exists."""
        return await self._writes.submit(row)

    async def _write(self, rows: list[CardRow]) -> list[bool]:
        columns: list[Any] = [
            [r.card_id for r in rows],
            [r.request_id for r in rows],
            [r.registry_id for r in rows],
            [r.kid for r in rows],
            [r.rid for r in rows],
            [r.jws for r in rows],
            [r.file_jws for r in rows],
            [r.pin_hash for r in rows],
            [r.pin_salt for r in rows],
            [r.token_hash for r in rows],
            [r.language for r in rows],
            [r.doses_total for r in rows],
            [r.doses_in_qr for r in rows],
            [r.expires_at for r in rows],
            [r.issued.message_id for r in rows],
            [r.issued.routing_key for r in rows],
            [r.issued.model_dump_json().encode() for r in rows],
            CHANNEL,
        ]
        inserted = {record["card_id"] for record in await self._pool.fetch(_INSERT, *columns)}
        return [r.card_id in inserted for r in rows]
