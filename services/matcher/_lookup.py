"""Registry lookups: candidates for a request, and the doses of the chosen person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from contracts import Dose

_EXACT = """
SELECT p.registry_id, p.given_names, p.family_name, p.birth_date
FROM registry.patients p
JOIN registry.contacts c
  ON c.registry_id = p.registry_id AND c.kind = $4 AND c.value = $5
WHERE p.birth_date = $3 AND p.family_key = $2 AND p.given_key = $1
ORDER BY p.registry_id
"""

# One person recorded several times is one person: doses of every record are merged, and a
# dose recorded twice (same vaccine, same day) counts once, keeping the copy with most detail.
_DOSES = """
SELECT DISTINCT ON (cvx, occurred_on) cvx, occurred_on, lot_number, performer
FROM registry.immunizations
WHERE registry_id = ANY($1::text[]) AND status = 'completed'
ORDER BY cvx, occurred_on, (lot_number IS NULL), (performer IS NULL), registry_id
"""


@dataclass(frozen=True)
class Candidate:
    """A registry record whose keys agree with the request."""

    registry_id: str
    given_names: str
    family_name: str
    birth_date: date


async def exact_candidates(
    pool: asyncpg.Pool,
    *,
    given_key: str,
    family_key: str,
    birth_date: date,
    contact_kind: str,
    contact_value: str,
) -> list[Candidate]:
    rows = await pool.fetch(_EXACT, given_key, family_key, birth_date, contact_kind, contact_value)
    return [Candidate(**dict(row)) for row in rows]


async def merged_doses(pool: asyncpg.Pool, registry_ids: list[str]) -> list[Dose]:
    rows = await pool.fetch(_DOSES, registry_ids)
    doses = [Dose(**dict(row)) for row in rows]
    return sorted(doses, key=lambda d: (d.occurred_on, d.cvx))
