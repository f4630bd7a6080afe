DROP INDEX envelopes_by_bidder;
