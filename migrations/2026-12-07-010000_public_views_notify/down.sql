DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT tgrelid::regclass::text AS t, tgname AS n FROM pg_trigger
             WHERE tgname IN ('public_views_changed', 'public_views_truncated')
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.n, r.t);
    END LOOP;
END
$$;
DROP FUNCTION public_views_changed();
