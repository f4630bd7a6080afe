-- Issue 11 point 5: an envelope C that is no valid offer for the tender (not JSON, negative,
-- 100% or more, more decimals than the bando allows) is proposed for exclusion at the
-- economic phase, like the other automatic exclusions (art. 30 c.3 lett. b): phase `economic`.
ALTER TABLE agg_exclusion_proposals DROP CONSTRAINT agg_exclusion_proposals_phase_check;
ALTER TABLE agg_exclusion_proposals ADD CONSTRAINT agg_exclusion_proposals_phase_check
    CHECK (phase IN ('anomaly', 'soccorso', 'art110', 'economic'));
