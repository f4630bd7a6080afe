-- An opened envelope whose plaintext is a `centrale-busta/1` archive (issue 12 point 4): the
-- files of its manifest as checked at the opening, `{"files":[{name,size,sha256}]}`, or why
-- the archive was refused, `{"error":…,"code":…}`. NULL for a single-body envelope.
ALTER TABLE opened_envelopes ADD COLUMN archive JSONB;
