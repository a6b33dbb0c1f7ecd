"""Registry lookups: candidates on a contact, the chosen person's records and doses, audit."""

from __future__ import annotations

from datetime import date

import asyncpg

from contracts import Dose
from services.matcher._rules import Candidate

__all__ = ["candidates", "known_elsewhere", "person_doses"]

# One index range scan per branch of registry.match_keys (0005.match-keys.sql), both driven by
# the contact: the records born on the typed date (or with day and month exchanged), and the
# records that carry exactly the typed given name, whatever their birth date.
_CANDIDATES = """
SELECT registry_id, given_names, family_name, birth_date, given_key, family_key
FROM registry.match_keys
WHERE kind = $1 AND value = $2 AND birth_date = ANY($3::date[])
UNION
SELECT registry_id, given_names, family_name, birth_date, given_key, family_key
FROM registry.match_keys
WHERE kind = $1 AND value = $2 AND given_key = $4
"""

# Is the typed person in the registry under another contact? Only asked when nothing matched,
# so that a contact mismatch is counted apart from an unknown person.
_ELSEWHERE = """
SELECT EXISTS (
    SELECT FROM registry.patients
    WHERE birth_date = $1 AND family_key = $2 AND given_key = $3
)
"""

# The chosen person is every record with the same identity that shares a contact with the
# records found: another provider's record of them may hold only their other contact. Their
# doses are merged, and a dose recorded twice (same vaccine, same day) counts once, keeping
# the copy with most detail.
_PERSON_DOSES = """
WITH found AS (
    SELECT kind, value FROM registry.contacts WHERE registry_id = ANY($1::text[])
), person AS (
    SELECT p.registry_id FROM registry.patients p
    WHERE p.birth_date = $2 AND p.family_key = $3 AND p.given_key = $4
      AND (p.registry_id = ANY($1::text[]) OR EXISTS (
            SELECT FROM registry.contacts c JOIN found f USING (kind, value)
            WHERE c.registry_id = p.registry_id))
)
SELECT DISTINCT ON (cvx, occurred_on) cvx, occurred_on, lot_number, performer
FROM registry.immunizations
WHERE registry_id IN (SELECT registry_id FROM person) AND status = 'completed'
ORDER BY cvx, occurred_on, (lot_number IS NULL), (performer IS NULL), registry_id
"""


async def candidates(
    pool: asyncpg.Pool,
    *,
    contact_kind: str,
    contact_value: str,
    birth_dates: list[date],
    given_key: str,
) -> list[Candidate]:
    """Records on the contact born on one of the dates or carrying exactly the given name."""
    rows = await pool.fetch(_CANDIDATES, contact_kind, contact_value, birth_dates, given_key)
    return [Candidate(**dict(row)) for row in rows]


async def known_elsewhere(
    pool: asyncpg.Pool, *, birth_date: date, family_key: str, given_key: str
) -> bool:
    return bool(await pool.fetchval(_ELSEWHERE, birth_date, family_key, given_key))


async def person_doses(pool: asyncpg.Pool, records: tuple[Candidate, ...]) -> list[Dose]:
    """The merged, de-duplicated completed doses of the person these records belong to."""
    given_key, family_key, birth_date = records[0].identity
    ids = [c.registry_id for c in records]
    rows = await pool.fetch(_PERSON_DOSES, ids, birth_date, family_key, given_key)
    doses = [Dose(**dict(row)) for row in rows]
    return sorted(doses, key=lambda d: (d.occurred_on, d.cvx))
