-- One live invitation proposal per ente, category and band (issue 9 point 5): a RUP who
-- wants another draw withdraws the live one, with a motivation, first. Older duplicates are
-- marked withdrawn (kept, never deleted) so the index can be built.
ALTER TABLE invitation_proposals DROP CONSTRAINT invitation_proposals_status_check;
ALTER TABLE invitation_proposals ADD CONSTRAINT invitation_proposals_status_check
    CHECK (status IN ('proposed', 'confirmed', 'withdrawn'));

UPDATE invitation_proposals p
   SET status = 'withdrawn'
 WHERE status = 'proposed'
   AND EXISTS (SELECT 1 FROM invitation_proposals q
                WHERE q.ente_id = p.ente_id AND q.category = p.category AND q.band = p.band
                  AND q.status = 'proposed'
                  AND (q.created_at, q.id) > (p.created_at, p.id));

CREATE UNIQUE INDEX invitation_proposals_one_live
    ON invitation_proposals (ente_id, category, band)
 WHERE status = 'proposed';

-- The candidates of a rotation draw, committed to the log before its beacon.
ALTER TABLE log_leaves DROP CONSTRAINT log_leaves_kind_check;
ALTER TABLE log_leaves ADD CONSTRAINT log_leaves_kind_check
    CHECK (kind IN ('tender_published', 'envelope_received', 'bid_withdrawn', 'tender_closed',
                    'envelope_opened', 'decision', 'invitation_committed'));
