ALTER TABLE agg_exclusion_proposals DROP CONSTRAINT agg_exclusion_proposals_phase_check;
ALTER TABLE agg_exclusion_proposals ADD CONSTRAINT agg_exclusion_proposals_phase_check
    CHECK (phase IN ('anomaly', 'soccorso', 'art110'));
