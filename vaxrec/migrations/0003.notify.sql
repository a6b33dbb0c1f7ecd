-- depends: 0002.cards
-- Notification deliveries: one row per notification event, never the body or the contact.
CREATE SCHEMA IF NOT EXISTS notify;

CREATE TABLE notify.deliveries (
    event_id            uuid PRIMARY KEY,
    request_id          uuid NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('card_issued', 'unmatched')),
    channel             text NOT NULL CHECK (channel IN ('sms', 'email')),
    provider            text NOT NULL,
    provider_message_id text,
    state               text NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts            integer NOT NULL DEFAULT 0,
    last_error_code     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_request_idx ON notify.deliveries (request_id);

-- The development provider's mailbox: what would have been sent. Development only; a
-- production deployment configures Twilio/SendGrid and this table stays empty.
CREATE TABLE notify.dev_outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE REFERENCES notify.deliveries,
    channel       text NOT NULL,
    to_address    text NOT NULL,
    language      text NOT NULL,
    subject       text,
    body          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
