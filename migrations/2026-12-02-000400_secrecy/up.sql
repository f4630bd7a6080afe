-- Secrecy until the deadline (issue 9 finding 1). An event that identifies a bidder is
-- recorded at the time, with the ente, and hidden from every ente-facing listing until the
-- tender's submission deadline. `actor_hidden` keeps an actor out of
-- every API listing for good (art. 88: the asker of a chiarimento stays anonymous to the
-- stazione appaltante); the row still holds it for the platform's operator.
-- ADD COLUMN with a constant default rewrites no row, so the append-only trigger is untouched.
ALTER TABLE audit_events ADD COLUMN visible_from TIMESTAMPTZ;
ALTER TABLE audit_events ADD COLUMN actor_hidden BOOLEAN NOT NULL DEFAULT false;
-- The tender whose deadline reveals the event: a rettifica may extend the deadline after the
-- event was recorded, and the row cannot be updated, so the listing reads the tender's current
-- deadline (`visible_from` keeps the deadline in force when the event was recorded).
ALTER TABLE audit_events ADD COLUMN sealed_until_deadline_of UUID;

-- Draws nobody can choose (issue 9 finding 6): the tie-break draw of an evaluation records
-- its public inputs (algorithm, purpose, subject, the beacon checkpoint) and the derived seed.
-- `draw_seed` (a number from the request) is no longer written.
ALTER TABLE agg_evaluations ADD COLUMN draw JSONB;
