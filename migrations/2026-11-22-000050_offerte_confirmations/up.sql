-- Issue 4 point 6 for sealed bids: after a rettifica that requires it, a bid submitted
-- before it must be confirmed (or an envelope replaced). Both tables are append-only.

-- A supplier's confirmation of its active bid, as it stands, under a tender version.
CREATE TABLE bid_confirmations (
    id              UUID PRIMARY KEY,
    bid_id          UUID NOT NULL REFERENCES bids(id),
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    bidder_id       UUID NOT NULL REFERENCES users(id),
    -- The tender version (bando_versioni.version) the bid is confirmed under.
    version         INTEGER NOT NULL CHECK (version > 0),
    confirmed_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX bid_confirmations_bid ON bid_confirmations (bid_id, confirmed_at);

-- One notice per (tender, rettifica, bidder): the notification written to
-- notifications_outbox telling the bidder to confirm or replace its bid.
CREATE TABLE bid_amendment_notices (
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    version         INTEGER NOT NULL,
    bidder_id       UUID NOT NULL REFERENCES users(id),
    bid_id          UUID NOT NULL REFERENCES bids(id),
    notification_id UUID NOT NULL REFERENCES notifications_outbox(id),
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (bando_id, version, bidder_id)
);

CREATE TRIGGER bid_confirmations_append_only BEFORE UPDATE OR DELETE ON bid_confirmations
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
CREATE TRIGGER bid_amendment_notices_append_only BEFORE UPDATE OR DELETE ON bid_amendment_notices
    FOR EACH ROW EXECUTE FUNCTION seal_append_only();
