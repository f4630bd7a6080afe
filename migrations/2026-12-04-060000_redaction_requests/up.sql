-- Art. 35 c.4 lett. a, art. 36 c.3-5: a bidder's requests to redact (oscuramento) parts of its
-- offer. The requests travel sealed inside the envelope (`oscuramento.json`, docs/redaction.md);
-- a row exists only once that envelope is opened and the RUP examines them. The RUP decides each
-- one before the award; the decision goes in the award's art. 90 communication and may be
-- challenged within ten days (art. 36 c.4): a challenge the RUP records keeps the part hidden
-- until he records its outcome. Rows are never deleted.
CREATE TABLE agg_redaction_requests (
    id uuid PRIMARY KEY,
    scope_id uuid NOT NULL,
    envelope_id uuid NOT NULL REFERENCES envelopes (id),
    bidder_id uuid NOT NULL REFERENCES users (id),
    position integer NOT NULL CHECK (position >= 0),
    file text NOT NULL,
    redacted_copy text,
    reasons text NOT NULL,
    evidence jsonb NOT NULL DEFAULT '[]',
    defect text,
    read_at timestamptz NOT NULL,
    decision text CHECK (decision IN ('accepted', 'rejected')),
    decision_reason text,
    decided_by uuid REFERENCES users (id),
    decided_at timestamptz,
    challenge_note text,
    challenge_by uuid REFERENCES users (id),
    challenge_at timestamptz,
    challenge_outcome text CHECK (challenge_outcome IN ('upheld', 'dismissed')),
    challenge_outcome_reason text,
    challenge_outcome_by uuid REFERENCES users (id),
    challenge_outcome_at timestamptz,
    UNIQUE (envelope_id, position),
    CHECK ((decision IS NULL) = (decided_at IS NULL)),
    CHECK (decision IS NULL OR decision_reason IS NOT NULL),
    CHECK (decision <> 'accepted' OR redacted_copy IS NOT NULL),
    CHECK (challenge_at IS NULL OR decided_at IS NOT NULL),
    CHECK ((challenge_outcome IS NULL) = (challenge_outcome_at IS NULL)),
    CHECK (challenge_outcome IS NULL OR challenge_at IS NOT NULL)
);
CREATE INDEX agg_redaction_requests_scope ON agg_redaction_requests (scope_id);
