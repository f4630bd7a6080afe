-- Art. 18 c.3 lett. b-c (as amended by D.Lgs. 209/2024): no standstill for contracts based on a
-- framework agreement or specific contracts under a dynamic purchasing system. A side table:
-- bandi is at diesel's 32-column limit. No row means neither.
CREATE TABLE bando_award_basis (
    bando_id uuid PRIMARY KEY REFERENCES bandi (id),
    framework_agreement boolean NOT NULL DEFAULT false,
    dynamic_purchasing_system boolean NOT NULL DEFAULT false
);

-- Art. 30 c.3 lett. b: every exclusion the platform computes (anomaly threshold, unanswered
-- soccorso istruttorio, expired art. 110 request) is only proposed; the RUP confirms or
-- rejects it with a reason. Rows are never deleted.
CREATE TABLE agg_exclusion_proposals (
    id uuid PRIMARY KEY,
    scope_id uuid NOT NULL,
    bidder_id uuid NOT NULL,
    phase text NOT NULL CHECK (phase IN ('anomaly', 'soccorso', 'art110')),
    reason text NOT NULL,
    proposed_at timestamptz NOT NULL,
    decision text CHECK (decision IN ('confirmed', 'rejected')),
    decision_reason text,
    decided_by uuid REFERENCES users (id),
    decided_at timestamptz,
    UNIQUE (scope_id, bidder_id, phase),
    CHECK ((decision IS NULL) = (decided_at IS NULL))
);
CREATE INDEX agg_exclusion_proposals_scope ON agg_exclusion_proposals (scope_id);

-- An art. 110 request whose term ran out without explanations: `expired` (the exclusion is
-- then proposed to the RUP, not applied by the platform).
ALTER TABLE agg_art110 DROP CONSTRAINT agg_art110_outcome_check;
ALTER TABLE agg_art110 ADD CONSTRAINT agg_art110_outcome_check CHECK (outcome IN ('accepted', 'excluded', 'expired'));
