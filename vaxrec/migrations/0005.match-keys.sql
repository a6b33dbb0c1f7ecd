-- depends: 0001.registry
-- The matcher's keys: one row per (resident, contact) carrying the resident's birth date and
-- name keys, so that a request is answered by one index range scan driven by the contact it
-- gives (the contact must always match), without visiting registry.patients per candidate.
-- Triggers keep it in step with registry.contacts and registry.patients, whoever writes them.

CREATE TABLE registry.match_keys (
    registry_id   text NOT NULL,
    kind          text NOT NULL,
    value         text NOT NULL,
    birth_date    date NOT NULL,
    given_key     text NOT NULL,
    family_key    text NOT NULL,
    -- As written, for the exact tier and for the compound-surname and middle-name rules, which
    -- need the word boundaries that the keys remove.
    given_names   text NOT NULL,
    family_name   text NOT NULL,
    PRIMARY KEY (registry_id, kind, value)
);
-- Candidates: the contact and the birth date as typed or with day and month exchanged.
CREATE INDEX match_keys_contact_birth_idx ON registry.match_keys (kind, value, birth_date);
-- Household members on the contact who carry exactly the typed given name (any birth date):
-- their presence forbids a relaxed name rule from picking someone else.
CREATE INDEX match_keys_contact_given_idx ON registry.match_keys (kind, value, given_key);

-- Statement-level triggers with transition tables: one set-based statement per import batch.
-- Hash and merge joins are off inside them so that each staged row is an index probe: a hash
-- of the whole registry per batch would make a ten-million-resident import quadratic.
CREATE FUNCTION registry.match_keys_contacts_added() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin TO off SET enable_mergejoin TO off AS $$
BEGIN
    INSERT INTO registry.match_keys
        (registry_id, kind, value, birth_date, given_key, family_key, given_names, family_name)
    SELECT a.registry_id, a.kind, a.value, p.birth_date, p.given_key, p.family_key,
           p.given_names, p.family_name
    FROM added a JOIN registry.patients p ON p.registry_id = a.registry_id
    ON CONFLICT (registry_id, kind, value) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION registry.match_keys_contacts_removed() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin TO off SET enable_mergejoin TO off AS $$
BEGIN
    DELETE FROM registry.match_keys m
    USING removed r
    WHERE m.registry_id = r.registry_id AND m.kind = r.kind AND m.value = r.value;
    RETURN NULL;
END
$$;

CREATE FUNCTION registry.match_keys_patients_changed() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin TO off SET enable_mergejoin TO off AS $$
BEGIN
    UPDATE registry.match_keys m
    SET birth_date = c.birth_date, given_key = c.given_key, family_key = c.family_key,
        given_names = c.given_names, family_name = c.family_name
    FROM changed c
    WHERE m.registry_id = c.registry_id
      AND (m.birth_date, m.given_key, m.family_key, m.given_names, m.family_name)
          IS DISTINCT FROM (c.birth_date, c.given_key, c.family_key, c.given_names, c.family_name);
    RETURN NULL;
END
$$;

CREATE TRIGGER contacts_match_keys_added AFTER INSERT ON registry.contacts
REFERENCING NEW TABLE AS added FOR EACH STATEMENT
EXECUTE FUNCTION registry.match_keys_contacts_added();

-- Also fires for the cascade when a patient is deleted.
CREATE TRIGGER contacts_match_keys_removed AFTER DELETE ON registry.contacts
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
EXECUTE FUNCTION registry.match_keys_contacts_removed();

CREATE TRIGGER patients_match_keys_changed AFTER UPDATE ON registry.patients
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
EXECUTE FUNCTION registry.match_keys_patients_changed();

-- A registry loaded before this migration.
INSERT INTO registry.match_keys
    (registry_id, kind, value, birth_date, given_key, family_key, given_names, family_name)
SELECT c.registry_id, c.kind, c.value, p.birth_date, p.given_key, p.family_key,
       p.given_names, p.family_name
FROM registry.contacts c JOIN registry.patients p USING (registry_id);

-- One row per record request the matcher decided: the outcome's reason and tier, and which
-- registry record was chosen. No name, birth date or contact: the reason is the whole story.
CREATE SCHEMA IF NOT EXISTS matcher;
CREATE TABLE matcher.match_audit (
    request_id    uuid PRIMARY KEY,
    reason        text NOT NULL,
    -- exact, normalized or tolerant for a match; the tier of a tie; NULL when nothing matched
    tier          text CHECK (tier IN ('exact', 'normalized', 'tolerant')),
    registry_id   text,
    decided_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX match_audit_decided_idx ON matcher.match_audit (decided_at);
