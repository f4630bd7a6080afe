-- Issue 15 (public reads): the anonymous public pages are served from a cache in each
-- `centrale serve` (crates/api/src/public_cache.rs), valid until something they may show
-- changes. Every table a public page can read tells the instances so: a row written there
-- sends NOTIFY public_views at commit, with the transaction's id (PostgreSQL folds the
-- repeats of one transaction into one; a server receiving it twice, on the connection that
-- committed and on its listener, counts it once). The tables left out are never shown on a public page and carry the deadline rush
-- (envelopes, receipts, the log, sessions, the audit trail), so a rush does not empty the
-- cache; tests/tests/public_cache.rs checks both halves against the tables the pages read.
CREATE FUNCTION public_views_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('public_views', pg_current_xact_id()::text);
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT tablename FROM pg_tables
        WHERE schemaname = 'public'
          AND tablename NOT IN (
              '__diesel_schema_migrations',
              'audit_events', 'bids', 'envelopes', 'receipts', 'bid_confirmations',
              'bid_amendment_notices', 'seal_upload_sessions', 'log_leaves', 'log_checkpoints',
              'log_subtree_hashes', 'notifications_outbox', 'sessions', 'login_throttle',
              'password_resets')
    LOOP
        EXECUTE format('CREATE TRIGGER public_views_changed AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION public_views_changed()', t);
        EXECUTE format('CREATE TRIGGER public_views_truncated AFTER TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION public_views_changed()', t);
    END LOOP;
END
$$;
