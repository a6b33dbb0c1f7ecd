"""The import's SQL: staging tables per session, and one set-based upsert per batch."""

from __future__ import annotations

__all__ = ["ANALYZE_REGISTRY", "COUNTS", "DROP_STAGING", "MERGE_BATCH", "STAGING"]

DROP_STAGING = """
DROP TABLE IF EXISTS pg_temp.registry_stage_patients, pg_temp.registry_stage_contacts,
    pg_temp.registry_stage_immunizations, pg_temp.registry_stage_changed,
    pg_temp.registry_stage_counts
"""

STAGING = (
    DROP_STAGING
    + """;
CREATE TEMP TABLE registry_stage_patients (
    registry_id text NOT NULL, given_names text NOT NULL, family_name text NOT NULL,
    birth_date date NOT NULL, given_key text NOT NULL, family_key text NOT NULL
);
CREATE TEMP TABLE registry_stage_contacts (
    registry_id text NOT NULL, kind text NOT NULL, value text NOT NULL
);
CREATE TEMP TABLE registry_stage_immunizations (
    registry_id text NOT NULL, cvx text NOT NULL, occurred_on date NOT NULL,
    lot_number text, performer text, status text NOT NULL
);
CREATE TEMP TABLE registry_stage_changed (registry_id text NOT NULL, is_new boolean NOT NULL);
CREATE TEMP TABLE registry_stage_counts (loaded int, updated int, unchanged int);
"""
)

# One simple-protocol script, so Postgres runs it as one transaction in one round trip while the
# importer parses the next batch. A resident is rewritten only if something differs: re-importing
# a file touches nothing, and updated_at keeps meaning "the last time this record changed".
#
# "Differs" is exact set equality without sorting (ordered array_agg sorts once per resident, which
# costs more than everything else here): the patient row IS NOT DISTINCT FROM the staged one, the
# registry holds as many contacts and doses as the extract, and holds every one of the extract's.
# The registry is read only through correlated subqueries, which Postgres runs as index probes per
# staged row whatever its statistics say; a join would let it hash the whole registry once per
# batch, which turns a ten-million-resident import quadratic.
MERGE_BATCH = """
INSERT INTO registry_stage_changed (registry_id, is_new)
SELECT s.registry_id, true
FROM registry_stage_patients s
WHERE (SELECT true FROM registry.patients p WHERE p.registry_id = s.registry_id) IS NULL;

WITH known AS (
    SELECT s.* FROM registry_stage_patients s
    WHERE NOT EXISTS (SELECT FROM registry_stage_changed n WHERE n.registry_id = s.registry_id)
), contacts AS (
    SELECT t.registry_id, count(*) AS n,
           count(*) FILTER (WHERE (
               SELECT true FROM registry.contacts c
               WHERE c.registry_id = t.registry_id AND c.kind = t.kind AND c.value = t.value
           )) AS held
    FROM registry_stage_contacts t
    WHERE t.registry_id IN (SELECT registry_id FROM known)
    GROUP BY t.registry_id
), doses AS (
    SELECT t.registry_id, count(*) AS n,
           count(*) FILTER (WHERE (
               SELECT (i.lot_number, i.performer, i.status)
                      IS NOT DISTINCT FROM (t.lot_number, t.performer, t.status)
               FROM registry.immunizations i
               WHERE i.registry_id = t.registry_id AND i.cvx = t.cvx
                 AND i.occurred_on = t.occurred_on
           )) AS held
    FROM registry_stage_immunizations t
    WHERE t.registry_id IN (SELECT registry_id FROM known)
    GROUP BY t.registry_id
)
INSERT INTO registry_stage_changed (registry_id, is_new)
SELECT registry_id, false
FROM (
    SELECT s.registry_id,
           ROW(s.given_names, s.family_name, s.birth_date, s.given_key, s.family_key,
               coalesce(c.n, 0), coalesce(d.n, 0)) AS staged,
           (SELECT ROW(p.given_names, p.family_name, p.birth_date, p.given_key, p.family_key,
                       (SELECT count(*) FROM registry.contacts x
                        WHERE x.registry_id = p.registry_id),
                       (SELECT count(*) FROM registry.immunizations x
                        WHERE x.registry_id = p.registry_id))
            FROM registry.patients p WHERE p.registry_id = s.registry_id) AS registry,
           coalesce(c.n = c.held, true) AND coalesce(d.n = d.held, true) AS all_held
    FROM known s
    LEFT JOIN contacts c USING (registry_id)
    LEFT JOIN doses d USING (registry_id)
) compared
WHERE registry IS DISTINCT FROM staged OR NOT all_held;

INSERT INTO registry.patients AS p
    (registry_id, given_names, family_name, birth_date, given_key, family_key)
SELECT s.registry_id, s.given_names, s.family_name, s.birth_date, s.given_key, s.family_key
FROM registry_stage_patients s JOIN registry_stage_changed USING (registry_id)
ORDER BY s.registry_id
ON CONFLICT (registry_id) DO UPDATE SET
    given_names = excluded.given_names,
    family_name = excluded.family_name,
    birth_date = excluded.birth_date,
    given_key = excluded.given_key,
    family_key = excluded.family_key,
    updated_at = now();

-- In key order, so that an extract sorted by registry_id appends to the right edge of each
-- primary-key index (Postgres caches that page) instead of descending the tree for every row.
-- A resident's contacts and doses in the extract replace what the registry had for them.
-- (= ANY of an array keeps these index scans, as above.)
DELETE FROM registry.contacts WHERE registry_id = ANY (ARRAY(
    SELECT registry_id FROM registry_stage_changed WHERE NOT is_new));
INSERT INTO registry.contacts (registry_id, kind, value)
SELECT t.registry_id, t.kind, t.value
FROM registry_stage_contacts t JOIN registry_stage_changed USING (registry_id)
ORDER BY t.registry_id, t.kind, t.value;

DELETE FROM registry.immunizations WHERE registry_id = ANY (ARRAY(
    SELECT registry_id FROM registry_stage_changed WHERE NOT is_new));
INSERT INTO registry.immunizations
    (registry_id, cvx, occurred_on, lot_number, performer, status)
SELECT t.registry_id, t.cvx, t.occurred_on, t.lot_number, t.performer, t.status
FROM registry_stage_immunizations t JOIN registry_stage_changed USING (registry_id)
ORDER BY t.registry_id, t.cvx, t.occurred_on;

INSERT INTO registry_stage_counts
SELECT count(*) FILTER (WHERE is_new),
       count(*) FILTER (WHERE NOT is_new),
       (SELECT count(*) FROM registry_stage_patients) - count(*)
FROM registry_stage_changed;

TRUNCATE registry_stage_patients, registry_stage_contacts, registry_stage_immunizations,
    registry_stage_changed;
"""

COUNTS = """
SELECT coalesce(sum(loaded), 0)::int, coalesce(sum(updated), 0)::int,
       coalesce(sum(unchanged), 0)::int
FROM registry_stage_counts
"""

# Autovacuum may be off (it is on some managed and test servers) or a minute behind: a registry
# that grows from empty in one import would keep the planner's picture of an empty one.
ANALYZE_REGISTRY = "ANALYZE registry.patients, registry.contacts, registry.immunizations"
