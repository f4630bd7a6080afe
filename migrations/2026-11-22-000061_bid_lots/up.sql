-- Lots (issue 5: "a bid for a tender or lot"; issue 6: "each lot is decided separately").
--
-- A bid names its lot (NULL for a tender without lots); a supplier has at most one active
-- bid per tender and lot. The opening stays per tender and envelope kind.
ALTER TABLE bids ADD COLUMN lotto_id UUID REFERENCES bando_lotti(id);
DROP INDEX bids_one_active;
CREATE UNIQUE INDEX bids_one_active ON bids (bando_id, bidder_id, (COALESCE(lotto_id, bando_id))) WHERE withdrawn_at IS NULL;
CREATE INDEX bids_lotto ON bids (lotto_id) WHERE lotto_id IS NOT NULL;

-- The evaluation runs per "scope": the lot for a tender with lots, else the tender itself.
-- Every agg_* table gets scope_id (existing rows: the tender), and the keys that were per
-- tender become per scope. bando_id stays (the tender, for joins and foreign keys); when an
-- insert gives only scope_id, a trigger fills bando_id from the lot, and it refuses a lot of
-- another tender.
CREATE FUNCTION agg_scope_fill() RETURNS trigger AS $$
DECLARE
    lot_tender UUID;
BEGIN
    IF NEW.scope_id IS NULL THEN
        NEW.scope_id := NEW.bando_id;
    END IF;
    SELECT l.bando_id INTO lot_tender FROM bando_lotti l WHERE l.id = NEW.scope_id;
    IF NEW.bando_id IS NULL THEN
        NEW.bando_id := COALESCE(lot_tender, NEW.scope_id);
    END IF;
    IF NEW.scope_id <> NEW.bando_id AND lot_tender IS DISTINCT FROM NEW.bando_id THEN
        RAISE EXCEPTION '%: scope % is not a lot of tender %', TG_TABLE_NAME, NEW.scope_id, NEW.bando_id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['agg_participants', 'agg_soccorso', 'agg_commission', 'agg_coefficients',
                             'agg_evaluations', 'agg_art110', 'agg_awards', 'agg_requirements'] LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN scope_id UUID', t);
        EXECUTE format('UPDATE %I SET scope_id = bando_id', t);
        EXECUTE format('ALTER TABLE %I ALTER COLUMN scope_id SET NOT NULL', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON %I FOR EACH ROW EXECUTE FUNCTION agg_scope_fill()', t || '_scope', t);
        EXECUTE format('CREATE INDEX %I ON %I (scope_id)', t || '_scope_idx', t);
    END LOOP;
END;
$$;
-- bando_id stays NOT NULL: the BEFORE INSERT trigger fills it before the constraint is checked.
ALTER TABLE agg_participants DROP CONSTRAINT agg_participants_pkey, ADD PRIMARY KEY (scope_id, bidder_id);
ALTER TABLE agg_commission DROP CONSTRAINT agg_commission_pkey, ADD PRIMARY KEY (scope_id, user_id);
ALTER TABLE agg_evaluations DROP CONSTRAINT agg_evaluations_pkey, ADD PRIMARY KEY (scope_id);
ALTER TABLE agg_awards DROP CONSTRAINT agg_awards_pkey, ADD PRIMARY KEY (scope_id);
