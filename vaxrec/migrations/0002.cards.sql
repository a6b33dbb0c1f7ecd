-- depends: 0001.registry
-- Issued cards and the keys that signed them. Written by the signer, read by the viewer.
CREATE SCHEMA IF NOT EXISTS cards;

CREATE TABLE cards.issuer_keys (
    kid           text PRIMARY KEY,
    public_jwk    jsonb NOT NULL,
    state         text NOT NULL CHECK (state IN ('active', 'retired', 'revoked')),
    crl_ctr       integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cards.issued_cards (
    card_id             uuid PRIMARY KEY,
    request_id          uuid NOT NULL UNIQUE,
    registry_id         text NOT NULL,
    kid                 text NOT NULL REFERENCES cards.issuer_keys,
    rid                 text NOT NULL,
    -- The card in the QR, and (when the QR had to leave doses out) the full card for the file.
    jws                 text NOT NULL,
    file_jws            text,
    -- PIN and link token only as keyed hashes (HMAC-SHA-256 with the server pepper).
    pin_hash            bytea NOT NULL,
    pin_salt            bytea NOT NULL,
    token_hash          bytea NOT NULL UNIQUE,
    language            text NOT NULL,
    doses_total         integer NOT NULL,
    doses_in_qr         integer NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    failed_pin_attempts integer NOT NULL DEFAULT 0,
    locked              boolean NOT NULL DEFAULT false,
    revoked             boolean NOT NULL DEFAULT false
);
CREATE INDEX issued_cards_expires_idx ON cards.issued_cards (expires_at);
CREATE INDEX issued_cards_rid_idx ON cards.issued_cards (rid);

-- Transactional outbox: a row is written in the same transaction as the card and deleted
-- by the relay once the broker has confirmed it, so the link token it carries does not stay.
CREATE TABLE cards.outbox (
    id            bigserial PRIMARY KEY,
    message_id    uuid NOT NULL UNIQUE,
    routing_key   text NOT NULL,
    body          bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
