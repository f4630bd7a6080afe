-- Resumable envelope uploads (issue 12 point 5, docs/seal.md "Resumable uploads"): a bidder
-- sends a client-sealed envelope in parts, each with its own SHA-256, and completes it; only
-- the completion makes an envelope, through the same commit as a one-shot upload.
-- A session row is never deleted (an auditor may ask what was attempted and when); only the
-- staged part files on disk are removed once the session ends.
CREATE TABLE seal_upload_sessions (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    lotto_id        UUID REFERENCES bando_lotti(id),
    kind            TEXT NOT NULL CHECK (kind IN ('A', 'B', 'C')),
    owner_id        UUID NOT NULL REFERENCES users(id),
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at),
    -- Fixed for the session: a change of the setting does not break an upload under way.
    chunk_bytes     BIGINT NOT NULL CHECK (chunk_bytes > 0),
    received_parts  INTEGER NOT NULL DEFAULT 0 CHECK (received_parts >= 0),
    received_bytes  BIGINT NOT NULL DEFAULT 0 CHECK (received_bytes >= 0),
    -- Hex SHA-256 of each accepted part, in order: part i is part_digests[i + 1].
    part_digests    TEXT[] NOT NULL DEFAULT '{}',
    last_part_at    TIMESTAMPTZ,
    state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'completed', 'abandoned', 'expired')),
    ended_at        TIMESTAMPTZ,
    -- Set on completion: the envelope it became (its receipt is the envelope's).
    envelope_id     UUID REFERENCES envelopes(id),
    CHECK (cardinality(part_digests) = received_parts),
    CHECK ((state = 'open') = (ended_at IS NULL)),
    CHECK ((state = 'completed') = (envelope_id IS NOT NULL))
);
CREATE INDEX seal_upload_sessions_open ON seal_upload_sessions (bando_id, owner_id) WHERE state = 'open';
CREATE INDEX seal_upload_sessions_expiring ON seal_upload_sessions (expires_at) WHERE state = 'open';
