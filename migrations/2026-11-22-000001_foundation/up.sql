-- Foundation: member authorities (enti), people, roles, sessions and the audit trail.
-- Nothing an auditor may ask for is ever deleted: rows are deactivated or revoked instead.

CREATE TABLE enti (
    id              UUID PRIMARY KEY,
    nome            TEXT NOT NULL CHECK (length(trim(nome)) > 0),
    codice_fiscale  TEXT NOT NULL UNIQUE,
    tipo            TEXT NOT NULL CHECK (tipo IN ('comune', 'unione', 'provincia', 'citta_metropolitana', 'regione', 'altro')),
    istat_code      TEXT,
    pec             TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    CHECK (tipo <> 'comune' OR istat_code IS NOT NULL)
);

CREATE TABLE users (
    id              UUID PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    full_name       TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('official', 'supplier')),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL
);

-- A grant of a role. `admin` is centrale-wide (no ente); every other role is per ente.
CREATE TABLE role_grants (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users(id),
    role            TEXT NOT NULL CHECK (role IN ('admin', 'rup', 'commission', 'auditor')),
    ente_id         UUID REFERENCES enti(id),
    granted_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    CHECK ((role = 'admin') = (ente_id IS NULL))
);
CREATE UNIQUE INDEX role_grants_active_unique
    ON role_grants (user_id, role, COALESCE(ente_id, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE revoked_at IS NULL;

-- Bearer tokens are stored only as their SHA-256; the token itself is shown once at login.
CREATE TABLE sessions (
    token_sha256    BYTEA PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users(id),
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_events (
    id              BIGSERIAL PRIMARY KEY,
    occurred_at     TIMESTAMPTZ NOT NULL,
    actor_user_id   UUID REFERENCES users(id),
    action          TEXT NOT NULL,
    object_type     TEXT NOT NULL,
    object_id       TEXT NOT NULL,
    ente_id         UUID REFERENCES enti(id),
    request_id      TEXT NOT NULL,
    details         JSONB NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_ente ON audit_events (ente_id, id);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id);

-- The audit trail is append-only: the database itself refuses to change or remove history.
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
