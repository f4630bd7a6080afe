-- A bidder's envelopes on a tender (the upload quotas, asked twice per envelope): without it
-- the question scanned every envelope of the tender, so a deadline rush grew quadratic
-- (issue 15).
CREATE INDEX envelopes_by_bidder ON envelopes (bando_id, bidder_id);
