-- Issue 10 point 3: what the bando says about automatic exclusion beyond the method
-- (art. 54 c.1-2, Allegato II.2 Method C point 1): reference discount and its motivation,
-- certain cross-border interest, the methods for the draw at evaluation
-- (crates/bando/src/anomaly_terms.rs). A table of its own: bandi is at diesel's 32 columns.
CREATE TABLE bando_anomaly_terms (
    bando_id UUID PRIMARY KEY REFERENCES bandi (id),
    terms JSONB NOT NULL
);

-- The awarded discount and the contract amount (Method B: second price), recorded with the
-- proposal of award (crates/aggiudicazione/src/procedure/award_terms.rs).
CREATE TABLE agg_award_terms (
    scope_id UUID PRIMARY KEY,
    winner_id UUID NOT NULL,
    method TEXT,
    offered_discount NUMERIC NOT NULL,
    awarded_discount NUMERIC NOT NULL,
    rule TEXT NOT NULL,
    amount_subject_to_discount NUMERIC NOT NULL,
    contract_amount NUMERIC NOT NULL,
    why TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
