ALTER TABLE log_leaves DROP CONSTRAINT log_leaves_kind_check;
ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_kind_check
    CHECK (kind IN ('tender_published', 'envelope_received', 'bid_withdrawn', 'tender_closed', 'envelope_opened'));
