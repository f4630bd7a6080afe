-- Issue 10 point 7: the maximum durations of Allegato I.3 (crates/bando/src/max_duration.rs).
-- One row per warning the scheduler gave a tender's RUPs (days_before > 0: that many days
-- before the duration runs out) and per duration that ran out without an award
-- (days_before = 0), for the due date it was computed against (it moves by a month when an
-- anomaly check starts, all. I.3 c.4). The primary key makes each warning happen once, even
-- with several scheduler instances. Append-only, like the rest of the tender's history.
CREATE TABLE bando_duration_notices (
    bando_id UUID NOT NULL REFERENCES bandi (id),
    due_date DATE NOT NULL,
    days_before INTEGER NOT NULL CHECK (days_before >= 0),
    recorded_at TIMESTAMPTZ NOT NULL,
    -- How many RUPs the notification went to (0 when a nearer warning superseded it).
    recipients INTEGER NOT NULL,
    PRIMARY KEY (bando_id, due_date, days_before)
);

CREATE TRIGGER bando_duration_notices_append_only BEFORE UPDATE OR DELETE ON bando_duration_notices
    FOR EACH ROW EXECUTE FUNCTION bando_append_only();
