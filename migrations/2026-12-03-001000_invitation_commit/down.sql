DROP INDEX IF EXISTS invitation_proposals_one_live;
ALTER TABLE invitation_proposals DROP CONSTRAINT invitation_proposals_status_check;
ALTER TABLE invitation_proposals ADD CONSTRAINT invitation_proposals_status_check
    CHECK (status IN ('proposed', 'confirmed', 'withdrawn'));
