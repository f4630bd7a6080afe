ALTER TABLE opened_envelopes DROP COLUMN archive;
