-- Documents issued by the platform (issue 14): the bid receipt, the minutes of an opening
-- session, the award report and the tender summary, as PDF. Issuing is an explicit act
-- recorded in the same transaction as an audit event and a `decision` leaf of the log that
-- carries the document's SHA-256; a download reads this table and writes nothing.
-- One row per distinct content: issuing again the same kind for the same scope with the same
-- data finds the row by its hash and returns it; changed data makes a new version.
CREATE TABLE issued_documents (
    id           UUID        PRIMARY KEY,
    bando_id     UUID        NOT NULL REFERENCES bandi(id),
    kind         TEXT        NOT NULL CHECK (kind IN ('ricevuta', 'verbale_seduta', 'verbale_aggiudicazione', 'riepilogo')),
    -- '' for the tender, 'lotto:<id>', 'busta:<A|B|C>', 'offerta:<bid id>'.
    scope        TEXT        NOT NULL,
    version      INT         NOT NULL CHECK (version >= 1),
    file_name    TEXT        NOT NULL,
    sha256       TEXT        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   BIGINT      NOT NULL CHECK (size_bytes > 0),
    content      BYTEA       NOT NULL,
    -- The bidder a receipt belongs to (the only reader besides nobody); NULL otherwise.
    owner_user_id UUID,
    issued_by    UUID        NOT NULL,
    issued_at    TIMESTAMPTZ NOT NULL,
    leaf_id      BIGINT      NOT NULL,
    leaf_hash    BYTEA       NOT NULL CHECK (length(leaf_hash) = 32),
    UNIQUE (bando_id, kind, scope, version),
    UNIQUE (bando_id, kind, scope, sha256)
);
CREATE INDEX issued_documents_bando ON issued_documents (bando_id, kind, scope, version);
