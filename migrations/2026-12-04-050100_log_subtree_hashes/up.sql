-- Hashes of complete, aligned subtrees of the public log (issue 11, heavy inputs): a proof
-- or a checkpoint reads O(log n) of them instead of every leaf. The log is append-only and
-- its indices are gap-free, so the subtree of leaves start..start+size never changes once its
-- last leaf is integrated. Filled on first use (in the reader's transaction); a row is a cache
-- of what the leaves already say, recomputable at any time.
CREATE TABLE log_subtree_hashes (
    start_index BIGINT NOT NULL CHECK (start_index >= 0),
    size        BIGINT NOT NULL CHECK (size >= 256 AND (size & (size - 1)) = 0 AND start_index % size = 0),
    hash        BYTEA  NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (start_index, size)
);
