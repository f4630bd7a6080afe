-- Issue 6 point 9: the decisions of the evaluation and award (admissions, exclusions, scores,
-- the anomaly computation, proposal, award, efficacy, ...) are leaves of the seal's log.
-- A `decision` leaf's data is `centrale-decision/v1` canonical text carrying only the tender,
-- the action, the instant and the SHA-256 of the decision's JSON (see docs/seal.md).
ALTER TABLE log_leaves DROP CONSTRAINT log_leaves_kind_check;
ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_kind_check
    CHECK (kind IN ('tender_published', 'envelope_received', 'bid_withdrawn', 'tender_closed', 'envelope_opened', 'decision'));
