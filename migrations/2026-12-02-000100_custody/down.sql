DROP TRIGGER IF EXISTS seal_tender_keys_append_only ON seal_tender_keys;
DROP TABLE IF EXISTS seal_opening_shares, seal_kind_keys, seal_acks, seal_contributions,
    seal_transport_keys, seal_ceremonies CASCADE;
DROP FUNCTION IF EXISTS seal_ceremonies_guard();
