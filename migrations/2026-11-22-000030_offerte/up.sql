-- The seal (issue 5): tender keys held in custody, bids and their sealed envelopes, receipts,
-- the transparency log (leaves, checkpoints), tender closures and openings.
-- Nothing is deleted: replaced envelopes are marked superseded, withdrawn bids are marked
-- withdrawn, log leaves only ever go from pending to integrated.
-- No table ever holds a tender's private key or any envelope plaintext before its opening.

-- The tender's age recipient and the k-of-n shares of its private key, each encrypted to one
-- custodian's own age public key (the ceremony ran on a custodian's machine).
CREATE TABLE seal_tender_keys (
    bando_id        UUID PRIMARY KEY REFERENCES bandi(id),
    recipient       TEXT NOT NULL CHECK (recipient LIKE 'age1%'),
    k               INTEGER NOT NULL CHECK (k >= 2),
    n               INTEGER NOT NULL CHECK (n >= k AND n <= 255),
    uploaded_by     UUID NOT NULL REFERENCES users(id),
    uploaded_at     TIMESTAMPTZ NOT NULL,
    leaf_id         BIGINT NOT NULL
);

CREATE TABLE seal_key_shares (
    bando_id            UUID NOT NULL REFERENCES seal_tender_keys(bando_id),
    position            INTEGER NOT NULL CHECK (position >= 0),
    custodian_user_id   UUID NOT NULL REFERENCES users(id),
    custodian_key       TEXT NOT NULL CHECK (custodian_key LIKE 'age1%'),
    ciphertext          BYTEA NOT NULL,
    PRIMARY KEY (bando_id, position),
    UNIQUE (bando_id, custodian_user_id)
);

-- The global append-only log. A leaf is written pending (leaf_index NULL) in the same
-- transaction as the event it records; the sequencer assigns gap-free indices in batches.
CREATE TABLE log_leaves (
    id              BIGSERIAL PRIMARY KEY,
    leaf_index      BIGINT UNIQUE CHECK (leaf_index >= 0),
    kind            TEXT NOT NULL CHECK (kind IN ('tender_published', 'envelope_received', 'bid_withdrawn', 'tender_closed', 'envelope_opened')),
    bando_id        UUID,
    data            BYTEA NOT NULL,
    leaf_hash       BYTEA NOT NULL CHECK (length(leaf_hash) = 32),
    created_at      TIMESTAMPTZ NOT NULL,
    integrated_at   TIMESTAMPTZ,
    CHECK ((leaf_index IS NULL) = (integrated_at IS NULL))
);
CREATE INDEX log_leaves_pending ON log_leaves (id) WHERE leaf_index IS NULL;
CREATE INDEX log_leaves_hash ON log_leaves (leaf_hash);

-- Signed tree heads (C2SP signed notes), one per tree size.
CREATE TABLE log_checkpoints (
    tree_size       BIGINT PRIMARY KEY CHECK (tree_size >= 0),
    root_hash       BYTEA NOT NULL CHECK (length(root_hash) = 32),
    note            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

-- One bid per supplier per tender at a time; a withdrawn bid stays, and a new one may follow.
CREATE TABLE bids (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    bidder_id       UUID NOT NULL REFERENCES users(id),
    created_at      TIMESTAMPTZ NOT NULL,
    withdrawn_at    TIMESTAMPTZ,
    withdrawal_leaf_id BIGINT REFERENCES log_leaves(id)
);
CREATE UNIQUE INDEX bids_one_active ON bids (bando_id, bidder_id) WHERE withdrawn_at IS NULL;
CREATE INDEX bids_bando ON bids (bando_id);

-- Envelopes, stored only as age ciphertext in the blob store (content-addressed by SHA-256).
CREATE TABLE envelopes (
    id              UUID PRIMARY KEY,
    bid_id          UUID NOT NULL REFERENCES bids(id),
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    bidder_id       UUID NOT NULL REFERENCES users(id),
    kind            TEXT NOT NULL CHECK (kind IN ('A', 'B', 'C')),
    sealed_by       TEXT NOT NULL CHECK (sealed_by IN ('client', 'server')),
    sha256          TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes      BIGINT NOT NULL CHECK (size_bytes > 0),
    blob_path       TEXT NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    leaf_id         BIGINT NOT NULL REFERENCES log_leaves(id),
    superseded_at   TIMESTAMPTZ,
    superseded_by   UUID REFERENCES envelopes(id)
);
CREATE UNIQUE INDEX envelopes_one_current ON envelopes (bid_id, kind) WHERE superseded_at IS NULL;
CREATE INDEX envelopes_bando ON envelopes (bando_id, kind);

-- The receipt as issued: canonical text (centrale-receipt/v1), Ed25519 signature, RFC 3161
-- token over the SHA-256 of the canonical text.
CREATE TABLE receipts (
    envelope_id     UUID PRIMARY KEY REFERENCES envelopes(id),
    canonical       TEXT NOT NULL,
    signature       TEXT NOT NULL,
    tsa_token       BYTEA NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL
);

-- A tender whose submission deadline passed: TenderClosed leaf and the checkpoint right after.
CREATE TABLE seal_closures (
    bando_id        UUID PRIMARY KEY REFERENCES bandi(id),
    deadline        TIMESTAMPTZ NOT NULL,
    closed_at       TIMESTAMPTZ NOT NULL,
    leaf_id         BIGINT NOT NULL REFERENCES log_leaves(id),
    tree_size       BIGINT NOT NULL REFERENCES log_checkpoints(tree_size)
);

-- Openings: envelope kind A, then B, then C, each with k shares, each logged.
CREATE TABLE openings (
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    kind            TEXT NOT NULL CHECK (kind IN ('A', 'B', 'C')),
    opened_at       TIMESTAMPTZ NOT NULL,
    opened_by       UUID NOT NULL REFERENCES users(id),
    shares_used     INTEGER NOT NULL,
    envelopes       INTEGER NOT NULL,
    leaf_id         BIGINT NOT NULL REFERENCES log_leaves(id),
    PRIMARY KEY (bando_id, kind)
);

-- Each envelope once opened: its plaintext (written to the blob store, readable by the
-- commission), or why it could not be decrypted; for C the parsed economic offer.
CREATE TABLE opened_envelopes (
    envelope_id     UUID PRIMARY KEY REFERENCES envelopes(id),
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    kind            TEXT NOT NULL CHECK (kind IN ('A', 'B', 'C')),
    opened_at       TIMESTAMPTZ NOT NULL,
    plaintext_path  TEXT,
    plaintext_sha256 TEXT,
    plaintext_size  BIGINT,
    error           TEXT,
    economic_offer  JSONB,
    CHECK ((plaintext_path IS NULL) <> (error IS NULL))
);

-- Public halves of the platform keys (the secrets live in the seal directory, not here).
CREATE TABLE seal_platform_keys (
    name            TEXT PRIMARY KEY,
    public_key      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION seal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

-- Leaves may only be integrated (index set once, data untouched), never deleted.
CREATE FUNCTION log_leaves_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'log_leaves is append-only';
    END IF;
    IF OLD.leaf_index IS NOT NULL OR NEW.data <> OLD.data OR NEW.leaf_hash <> OLD.leaf_hash
       OR NEW.kind <> OLD.kind THEN
        RAISE EXCEPTION 'log_leaves: only a pending leaf may be integrated';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION log_leaves_guard();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER seal_key_shares_append_only BEFORE UPDATE OR DELETE ON seal_key_shares
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER openings_append_only BEFORE UPDATE OR DELETE ON openings
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
