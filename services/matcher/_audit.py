"""The matcher's audit trail: one row per decided request (reason, tier, chosen registry id;
never a name, birth date or contact)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from vaxrec.group_commit import GroupCommit

# A redelivered request keeps the row of its first decision.
_AUDIT = """
INSERT INTO matcher.match_audit (request_id, reason, tier, registry_id)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
ON CONFLICT (request_id) DO NOTHING
"""


@dataclass(frozen=True)
class AuditRow:
    request_id: uuid.UUID
    reason: str
    tier: str | None
    registry_id: str | None


class AuditLog:
    """One audit row per decided request, group-committed: under load one INSERT carries every
    decision made while the previous one was being written, instead of a round trip each."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._writes: GroupCommit[AuditRow, None] = GroupCommit(self._write, name="match-audit")

    async def record(self, row: AuditRow) -> None:
        await self._writes.submit(row)

    async def _write(self, rows: list[AuditRow]) -> list[None]:
        await self._pool.execute(
            _AUDIT,
            [r.request_id for r in rows],
            [r.reason for r in rows],
            [r.tier for r in rows],
            [r.registry_id for r in rows],
        )
        return [None] * len(rows)
