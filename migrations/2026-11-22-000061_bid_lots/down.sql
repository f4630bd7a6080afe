ALTER TABLE agg_participants DROP CONSTRAINT agg_participants_pkey, ADD PRIMARY KEY (bando_id, bidder_id);
ALTER TABLE agg_commission DROP CONSTRAINT agg_commission_pkey, ADD PRIMARY KEY (bando_id, user_id);
ALTER TABLE agg_evaluations DROP CONSTRAINT agg_evaluations_pkey, ADD PRIMARY KEY (bando_id);
ALTER TABLE agg_awards DROP CONSTRAINT agg_awards_pkey, ADD PRIMARY KEY (bando_id);
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['agg_participants', 'agg_soccorso', 'agg_commission', 'agg_coefficients',
                             'agg_evaluations', 'agg_art110', 'agg_awards', 'agg_requirements'] LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_scope', t);
        EXECUTE format('ALTER TABLE %I DROP COLUMN scope_id', t);
    END LOOP;
END;
$$;
DROP FUNCTION agg_scope_fill();
DROP INDEX bids_lotto;
DROP INDEX bids_one_active;
ALTER TABLE bids DROP COLUMN lotto_id;
CREATE UNIQUE INDEX bids_one_active ON bids (bando_id, bidder_id) WHERE withdrawn_at IS NULL;
