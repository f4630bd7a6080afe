DROP TABLE agg_redaction_requests;
