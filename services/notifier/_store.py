"""The delivery table's writes on every send: the claim before it and the result after it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

import asyncpg

from vaxrec.group_commit import GroupCommit

Decision = Literal["claimed", "done", "in_flight", "rate_limited"]


@dataclass(frozen=True)
class Claim:
    """An attempt about to start."""

    event_id: uuid.UUID
    request_id: uuid.UUID
    kind: str
    channel: str
    provider: str
    language: str
    contact_key: bytes


@dataclass(frozen=True)
class Result:
    """How an attempt ended."""

    event_id: uuid.UUID
    state: str
    provider_message_id: str | None = None
    error_code: str | None = None


class DeliveryStore:
    """Claims and results, each written in batches (see `vaxrec.group_commit`)."""

    def __init__(self, pool: asyncpg.Pool, *, limit: int, window_s: float, lease_s: float) -> None:
        self._pool = pool
        self._limit = limit
        self._window_s = window_s
        self._lease_s = lease_s
        self._claims = GroupCommit(self._claim_batch, name="delivery-claims")
        self._results = GroupCommit(self._result_batch, name="delivery-results")

    async def claim(self, claim: Claim) -> Decision:
        """Start an attempt unless the delivery is done, in flight or over its contact's limit."""
        return await self._claims.submit(claim)

    async def record(self, result: Result) -> None:
        """Commit how an attempt ended."""
        await self._results.submit(result)

    async def _claim_batch(self, claims: list[Claim]) -> list[Decision]:
        # notify.begin_attempts (migration 0004) holds the decision rules.
        rows = await self._pool.fetch(
            "SELECT slot, decision FROM notify.begin_attempts("
            "$1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],"
            "$7::bytea[], $8, $9, $10)",
            [c.event_id for c in claims],
            [c.request_id for c in claims],
            [c.kind for c in claims],
            [c.channel for c in claims],
            [c.provider for c in claims],
            [c.language for c in claims],
            [c.contact_key for c in claims],
            self._limit,
            self._window_s,
            self._lease_s,
        )
        decisions: dict[int, Decision] = {row["slot"]: row["decision"] for row in rows}
        return [decisions[slot] for slot in range(1, len(claims) + 1)]

    async def _result_batch(self, results: list[Result]) -> list[None]:
        await self._pool.execute(
            """
            UPDATE notify.deliveries AS d
            SET state = r.state, provider_message_id = r.provider_message_id,
                last_error_code = r.error_code, updated_at = now()
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
                AS r(event_id, state, provider_message_id, error_code)
            WHERE d.event_id = r.event_id
            """,
            [r.event_id for r in results],
            [r.state for r in results],
            [r.provider_message_id for r in results],
            [r.error_code for r in results],
        )
        return [None] * len(results)
