-- depends: 0002.cards
-- Revocation by rid (SMART Health Cards, VCI 1.2.0): one CRL per signing key, served by the
-- viewer at <iss>/.well-known/crl/<kid>.json. The CRL's counter is cards.issuer_keys.crl_ctr
-- (0 = the key has no CRL yet); it goes up by one with every change to the key's list.

CREATE TABLE cards.revoked_rids (
    kid           text NOT NULL REFERENCES cards.issuer_keys,
    rid           text NOT NULL CHECK (rid ~ '^[A-Za-z0-9_-]{1,24}$'),
    -- The `.<timestamp>` suffix: only cards whose nbf is before this second are revoked, so a
    -- card issued again later for the same person (same rid under the same key) stays valid.
    -- NULL revokes every card with this rid, past and future.
    revoked_before bigint CHECK (revoked_before > 0),
    revoked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kid, rid)
);

-- The published JWK carries `crlVersion` equal to the CRL's counter, whoever writes the row:
-- the signer re-publishes its keys without it on every start, and this puts it back.
CREATE FUNCTION cards.issuer_key_crl_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.crl_ctr > 0 THEN
        NEW.public_jwk := NEW.public_jwk || jsonb_build_object('crlVersion', NEW.crl_ctr);
    ELSE
        NEW.public_jwk := NEW.public_jwk - 'crlVersion';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER issuer_keys_crl_version
    BEFORE INSERT OR UPDATE ON cards.issuer_keys
    FOR EACH ROW EXECUTE FUNCTION cards.issuer_key_crl_version();
