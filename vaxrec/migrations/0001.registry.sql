-- The immunization registry as vaxrec sees it: loaded from registry extracts by
-- `vaxrec registry import`, read only by the matcher.
CREATE SCHEMA IF NOT EXISTS registry;

CREATE TABLE registry.patients (
    registry_id   text PRIMARY KEY,
    given_names   text NOT NULL,
    family_name   text NOT NULL,
    birth_date    date NOT NULL,
    -- Match keys are computed once at import so a lookup never normalizes the registry side.
    given_key     text NOT NULL,
    family_key    text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patients_match_idx ON registry.patients (birth_date, family_key);

CREATE TABLE registry.contacts (
    registry_id   text NOT NULL REFERENCES registry.patients ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('phone', 'email')),
    -- phone in E.164, email trimmed and lower-cased
    value         text NOT NULL,
    PRIMARY KEY (registry_id, kind, value)
);
CREATE INDEX contacts_value_idx ON registry.contacts (kind, value);

CREATE TABLE registry.immunizations (
    registry_id   text NOT NULL REFERENCES registry.patients ON DELETE CASCADE,
    cvx           text NOT NULL,
    occurred_on   date NOT NULL,
    lot_number    text,
    performer     text,
    status        text NOT NULL DEFAULT 'completed',
    PRIMARY KEY (registry_id, cvx, occurred_on)
);
