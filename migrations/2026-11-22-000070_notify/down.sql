DROP INDEX IF EXISTS notifications_outbox_due;
ALTER TABLE notifications_outbox
    DROP COLUMN IF EXISTS attempts,
    DROP COLUMN IF EXISTS last_attempt_at,
    DROP COLUMN IF EXISTS last_error,
    DROP COLUMN IF EXISTS next_attempt_at,
    DROP COLUMN IF EXISTS message_id;
