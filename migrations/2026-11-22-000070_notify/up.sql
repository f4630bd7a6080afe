-- The notification dispatcher (crates/notify): delivery attempts on the outbox.
-- A row is delivered when sent_at is set; until then every failed attempt is counted, its
-- error kept (the last one) and the next attempt scheduled with a growing backoff.
ALTER TABLE notifications_outbox
    ADD COLUMN attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN last_attempt_at TIMESTAMPTZ,
    ADD COLUMN last_error      TEXT,
    ADD COLUMN next_attempt_at TIMESTAMPTZ,
    -- The Message-ID of the delivered message (the same on every attempt of a row).
    ADD COLUMN message_id      TEXT;

CREATE INDEX notifications_outbox_due ON notifications_outbox (next_attempt_at, created_at) WHERE sent_at IS NULL;
