"""registry.match_keys stays equal to contacts joined with patients through every import."""

from __future__ import annotations

import asyncpg

from vaxrec.registry import generate, import_records

# Rows that are in one side and not the other, either way round.
DIFFERENCE = """
WITH expected AS (
    SELECT c.registry_id, c.kind, c.value, p.birth_date, p.given_key, p.family_key,
           p.given_names, p.family_name
    FROM registry.contacts c JOIN registry.patients p USING (registry_id)
    WHERE c.registry_id LIKE $1
), actual AS (
    SELECT registry_id, kind, value, birth_date, given_key, family_key, given_names, family_name
    FROM registry.match_keys WHERE registry_id LIKE $1
)
SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) a)
     + (SELECT count(*) FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) b)
"""


async def test_import_and_reimport(db: asyncpg.Pool, prefix: str) -> None:
    records = list(generate(400, 21, include_demo=False, id_prefix=prefix))
    await import_records(db, enumerate(records, 1), batch_size=150)
    like = f"{prefix}-%"
    assert (
        await db.fetchval(
            "SELECT count(*) FROM registry.match_keys WHERE registry_id LIKE $1", like
        )
        > 300
    )
    assert await db.fetchval(DIFFERENCE, like) == 0
    versions = await db.fetch(
        "SELECT xmin::text FROM registry.match_keys WHERE registry_id LIKE $1 ORDER BY 1", like
    )
    # The same extract again changes nothing, match keys included.
    summary = await import_records(db, enumerate(records, 1), batch_size=150)
    assert summary.unchanged == len(records)
    again = await db.fetch(
        "SELECT xmin::text FROM registry.match_keys WHERE registry_id LIKE $1 ORDER BY 1", like
    )
    assert again == versions
    # Every record changed: names, birth dates and contacts move, and the keys follow.
    changed = [
        r._replace(
            family_name=r.given_names,
            given_names=r.family_name,
            birth_date=r.birth_date.replace(day=1),
            email=None if r.phone else r.email,
        )
        for r in records
    ]
    await import_records(db, enumerate(changed, 1), batch_size=150)
    assert await db.fetchval(DIFFERENCE, like) == 0
