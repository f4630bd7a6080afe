ALTER TABLE agg_evaluations DROP COLUMN draw;
ALTER TABLE audit_events DROP COLUMN sealed_until_deadline_of;
ALTER TABLE audit_events DROP COLUMN actor_hidden;
ALTER TABLE audit_events DROP COLUMN visible_from;
