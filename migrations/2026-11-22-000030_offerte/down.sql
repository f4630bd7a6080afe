DROP TABLE IF EXISTS seal_platform_keys, opened_envelopes, openings, seal_closures, receipts,
    envelopes, bids, log_checkpoints, log_leaves, seal_key_shares, seal_tender_keys CASCADE;
DROP FUNCTION IF EXISTS log_leaves_guard();
DROP FUNCTION IF EXISTS seal_append_only();
