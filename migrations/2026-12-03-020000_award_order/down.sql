ALTER TABLE agg_art110 DROP CONSTRAINT agg_art110_outcome_check;
UPDATE agg_art110 SET outcome = 'excluded' WHERE outcome = 'expired';
ALTER TABLE agg_art110 ADD CONSTRAINT agg_art110_outcome_check CHECK (outcome IN ('accepted', 'excluded'));
DROP TABLE agg_exclusion_proposals;
DROP TABLE bando_award_basis;
