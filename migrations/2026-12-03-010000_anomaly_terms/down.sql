DROP TABLE agg_award_terms;
DROP TABLE bando_anomaly_terms;
