DROP TABLE IF EXISTS bid_amendment_notices, bid_confirmations;
