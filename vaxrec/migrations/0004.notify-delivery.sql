-- depends: 0003.notify
-- Deliveries through real providers: an attempt is committed before the provider is called
-- ('sending'), the provider's own delivery reports are kept, and a per-contact message count
-- shared by every notifier replica. Still never the body, the link or the contact in clear.

ALTER TABLE notify.deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE notify.deliveries ADD CONSTRAINT deliveries_state_check
    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'rate_limited'));

ALTER TABLE notify.deliveries
    ADD COLUMN language           text,
    -- What the provider later reported (Twilio status callback): queued, sent, delivered, ...
    ADD COLUMN provider_status    text,
    ADD COLUMN provider_status_at timestamptz;

-- Status callbacks find their delivery by the provider's message id.
CREATE INDEX deliveries_provider_message_idx
    ON notify.deliveries (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;

-- Messages sent to one contact in the current window. The key is an HMAC of the contact under
-- a key the database never sees, so this table cannot be turned back into phone numbers or
-- emails; rows whose window has passed are purged by the notifier.
CREATE TABLE notify.contact_windows (
    contact_key   bytea PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    messages      integer NOT NULL
);
CREATE INDEX contact_windows_start_idx ON notify.contact_windows (window_start);

-- The claim that starts each attempt, for a batch of deliveries in one round trip (at hundreds
-- of notifications a second the round trips, not the work, are the cost). For each delivery,
-- under its row lock, it decides:
--   'done'          it already ended (sent, failed, rate_limited): send nothing
--   'in_flight'     another attempt is within its lease: let the broker retry later
--   'rate_limited'  first attempt, and the contact is over its limit in the current window
--   'claimed'       the attempt is recorded (state 'sending', attempts + 1): go ahead and send
-- Contacts are taken in one order in every batch, so two replicas' batches cannot deadlock.
CREATE FUNCTION notify.begin_attempts(
    p_event_ids uuid[], p_request_ids uuid[], p_kinds text[], p_channels text[],
    p_providers text[], p_languages text[], p_contact_keys bytea[],
    p_limit integer, p_window_s double precision, p_lease_s double precision
) RETURNS TABLE (slot integer, decision text) LANGUAGE plpgsql AS $$
DECLARE
    d notify.deliveries;
    counted integer;
BEGIN
    FOR slot IN
        SELECT s.i FROM generate_subscripts(p_event_ids, 1) AS s(i)
        ORDER BY p_contact_keys[s.i], p_event_ids[s.i]
    LOOP
        INSERT INTO notify.deliveries (event_id, request_id, kind, channel, provider, language,
                                       state)
        VALUES (p_event_ids[slot], p_request_ids[slot], p_kinds[slot], p_channels[slot],
                p_providers[slot], p_languages[slot], 'pending')
        ON CONFLICT (event_id) DO NOTHING;
        SELECT * INTO d FROM notify.deliveries WHERE event_id = p_event_ids[slot] FOR UPDATE;
        decision := 'claimed';
        IF d.state IN ('sent', 'failed', 'rate_limited') THEN
            decision := 'done';
        ELSIF d.state = 'sending'
              AND d.updated_at > now() - make_interval(secs => p_lease_s) THEN
            decision := 'in_flight';
        ELSIF d.attempts = 0 THEN
            -- A fixed window per contact that opens with its first message; the upsert's row
            -- lock orders concurrent replicas, so the count cannot be raced.
            INSERT INTO notify.contact_windows AS w (contact_key, window_start, messages)
            VALUES (p_contact_keys[slot], now(), 1)
            ON CONFLICT (contact_key) DO UPDATE SET
                window_start = CASE
                    WHEN w.window_start <= now() - make_interval(secs => p_window_s)
                    THEN now() ELSE w.window_start END,
                messages = CASE
                    WHEN w.window_start <= now() - make_interval(secs => p_window_s)
                    THEN 1 ELSE w.messages + 1 END
            RETURNING messages INTO counted;
            IF counted > p_limit THEN
                decision := 'rate_limited';
            END IF;
        END IF;
        IF decision = 'claimed' THEN
            UPDATE notify.deliveries
            SET state = 'sending', attempts = attempts + 1, provider = p_providers[slot],
                updated_at = now()
            WHERE event_id = p_event_ids[slot];
        ELSIF decision = 'rate_limited' THEN
            UPDATE notify.deliveries SET state = 'rate_limited', updated_at = now()
            WHERE event_id = p_event_ids[slot];
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
