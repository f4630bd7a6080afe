DROP TABLE agg_exclusion_proposals;
DROP TABLE bando_award_basis;
