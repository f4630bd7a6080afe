DROP TABLE log_subtree_hashes;
