-- Issue 11: login throttling and one-time password resets. (Deactivation uses users.active;
-- its reason is in the audit event.)

-- Failed-login counters, one row per throttled key: `account:<sha256 of the normalised email>`
-- (known or not: the same key shape, so a lock never tells whether the account exists, and an
-- unknown address is never stored in clear) or `address:<client address or IPv6 /64>`.
-- Kept in PostgreSQL so the counters survive a restart and hold across several servers.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    -- Failures counted in the current window, which started at window_start.
    failures        INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    window_start    TIMESTAMPTZ NOT NULL,
    -- Locks so far: each lock lasts longer than the one before.
    locks           INTEGER NOT NULL DEFAULT 0 CHECK (locks >= 0),
    locked_until    TIMESTAMPTZ,
    -- Attempts refused while locked (counted, not each audited: a flood must not grow the trail).
    refused         BIGINT NOT NULL DEFAULT 0,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- One-time password resets issued by an admin and sent by e-mail through the outbox. Only the
-- SHA-256 of the token is stored; a token is used once, before it expires.
CREATE TABLE password_resets (
    token_sha256    BYTEA PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users(id),
    issued_by       UUID REFERENCES users(id),
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    -- Set when used, or when a newer reset for the same user supersedes it.
    used_at         TIMESTAMPTZ
);
CREATE INDEX password_resets_user ON password_resets (user_id);
