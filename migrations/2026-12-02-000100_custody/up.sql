-- Custody no single person can break (issue 9 point 6): a dealerless key ceremony among the
-- tender's custodians, one independent key per envelope kind (A, B, C), and the custodians'
-- own shares at each opening. No table ever holds a tender's secret key; a custodian's
-- decrypted share of kind K is stored only once the opening of K is allowed.
-- Everything is append-only; a ceremony abandoned before completion is marked reset, once.

-- One ceremony per attempt; custodians (in order: custodian j is custodians[j]) and k are
-- copied from the tender when it starts.
CREATE TABLE seal_ceremonies (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    k               INTEGER NOT NULL CHECK (k >= 2),
    custodians      UUID[] NOT NULL CHECK (cardinality(custodians) >= k AND cardinality(custodians) <= 255),
    started_at      TIMESTAMPTZ NOT NULL,
    completed_at    TIMESTAMPTZ,
    reset_at        TIMESTAMPTZ,
    reset_by        UUID REFERENCES users(id),
    CHECK (completed_at IS NULL OR reset_at IS NULL)
);
CREATE UNIQUE INDEX seal_ceremonies_one_live ON seal_ceremonies (bando_id) WHERE reset_at IS NULL;

-- Each custodian's age transport key (X25519), registered by the custodian himself.
CREATE TABLE seal_transport_keys (
    ceremony_id     UUID NOT NULL REFERENCES seal_ceremonies(id),
    custodian_user_id UUID NOT NULL REFERENCES users(id),
    position        INTEGER NOT NULL CHECK (position >= 1),
    age_key         TEXT NOT NULL CHECK (age_key LIKE 'age1%'),
    registered_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ceremony_id, custodian_user_id),
    UNIQUE (ceremony_id, position)
);

-- A dealer's contribution for one kind: Feldman commitments (k compressed Edwards points)
-- and one share per custodian, age-encrypted to that custodian's transport key.
CREATE TABLE seal_contributions (
    ceremony_id     UUID NOT NULL REFERENCES seal_ceremonies(id),
    dealer_user_id  UUID NOT NULL REFERENCES users(id),
    kind            TEXT NOT NULL CHECK (kind IN ('A', 'B', 'C')),
    commitments     BYTEA[] NOT NULL,
    shares          JSONB NOT NULL,
    submitted_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ceremony_id, dealer_user_id, kind)
);

-- A custodian's acknowledgement: every share he received passed the Feldman check, and a
-- Schnorr proof of knowledge of his combined share for the verification share the server
-- recomputed from the commitments.
CREATE TABLE seal_acks (
    ceremony_id     UUID NOT NULL REFERENCES seal_ceremonies(id),
    custodian_user_id UUID NOT NULL REFERENCES users(id),
    kind            TEXT NOT NULL CHECK (kind IN ('A', 'B', 'C')),
    verification_share BYTEA NOT NULL CHECK (length(verification_share) = 32),
    proof           BYTEA NOT NULL CHECK (length(proof) = 64),
    acked_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ceremony_id, custodian_user_id, kind)
);

-- The tender key per kind, computed by the server from the commitments at completion.
CREATE TABLE seal_kind_keys (
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    kind            TEXT NOT NULL CHECK (kind IN ('A', 'B', 'C')),
    ceremony_id     UUID NOT NULL REFERENCES seal_ceremonies(id),
    public_key      BYTEA NOT NULL CHECK (length(public_key) = 32),
    recipient       TEXT NOT NULL CHECK (recipient LIKE 'age1%'),
    PRIMARY KEY (bando_id, kind)
);

-- A custodian's share of kind K, submitted at the opening of K and checked against his
-- verification share.
CREATE TABLE seal_opening_shares (
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    kind            TEXT NOT NULL CHECK (kind IN ('A', 'B', 'C')),
    custodian_user_id UUID NOT NULL REFERENCES users(id),
    position        INTEGER NOT NULL CHECK (position >= 1),
    share           BYTEA NOT NULL CHECK (length(share) = 32),
    submitted_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (bando_id, kind, custodian_user_id)
);

-- A ceremony may only be completed or reset, once; nothing else changes.
CREATE FUNCTION seal_ceremonies_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'seal_ceremonies is append-only';
    END IF;
    IF NEW.id <> OLD.id OR NEW.bando_id <> OLD.bando_id OR NEW.k <> OLD.k
       OR NEW.custodians <> OLD.custodians OR NEW.started_at <> OLD.started_at
       OR OLD.completed_at IS NOT NULL OR OLD.reset_at IS NOT NULL THEN
        RAISE EXCEPTION 'seal_ceremonies: only a live ceremony may be completed or reset, once';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER seal_ceremonies_append_only BEFORE UPDATE OR DELETE ON seal_ceremonies
    FOR EACH ROW EXECUTE FUNCTION seal_ceremonies_guard();
CREATE TRIGGER seal_transport_keys_append_only BEFORE UPDATE OR DELETE ON seal_transport_keys
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER seal_contributions_append_only BEFORE UPDATE OR DELETE ON seal_contributions
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER seal_acks_append_only BEFORE UPDATE OR DELETE ON seal_acks
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER seal_kind_keys_append_only BEFORE UPDATE OR DELETE ON seal_kind_keys
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER seal_opening_shares_append_only BEFORE UPDATE OR DELETE ON seal_opening_shares
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER seal_tender_keys_append_only BEFORE UPDATE OR DELETE ON seal_tender_keys
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
