-- Issue 3: the supplier registry (albo degli operatori economici).
-- Nothing an auditor may ask for is deleted: statuses change (with their history kept),
-- withdrawn categories and replaced documents are marked, never removed.

CREATE TABLE operatori (
    id                      UUID PRIMARY KEY,
    -- The supplier account that registered and manages the entry (one entry per account).
    owner_user_id           UUID NOT NULL UNIQUE REFERENCES users(id),
    ragione_sociale         TEXT NOT NULL CHECK (length(trim(ragione_sociale)) > 0),
    forma_giuridica         TEXT NOT NULL,
    partita_iva             TEXT NOT NULL UNIQUE,
    codice_fiscale          TEXT NOT NULL,
    sede_istat              TEXT NOT NULL,
    -- Denormalized from the ISTAT list at registration, for search.
    sede_comune             TEXT NOT NULL,
    sede_provincia          TEXT NOT NULL,
    sede_regione            TEXT NOT NULL,
    sede_indirizzo          TEXT,
    pec                     TEXT NOT NULL,
    legale_rappresentante_nome TEXT NOT NULL,
    legale_rappresentante_cf   TEXT NOT NULL,
    status                  TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'qualified', 'rejected', 'suspended')),
    status_reason           TEXT,
    status_changed_at       TIMESTAMPTZ NOT NULL,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL
);
CREATE INDEX operatori_order ON operatori (ragione_sociale, id);
CREATE INDEX operatori_sede ON operatori (sede_istat);
CREATE INDEX operatori_provincia ON operatori (sede_provincia);
CREATE INDEX operatori_regione ON operatori (sede_regione);

-- Every status change, in order (also in audit_events; kept here for the registry's own view).
CREATE TABLE operatore_status_history (
    id              BIGSERIAL PRIMARY KEY,
    operatore_id    UUID NOT NULL REFERENCES operatori(id),
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    reason          TEXT,
    actor_user_id   UUID REFERENCES users(id),
    changed_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX operatore_status_history_op ON operatore_status_history (operatore_id, id);

-- Declared CPV codes. `stem` is the 8-digit stem used for descendant search.
CREATE TABLE operatore_cpv (
    id              BIGSERIAL PRIMARY KEY,
    operatore_id    UUID NOT NULL REFERENCES operatori(id),
    cpv             TEXT NOT NULL,
    stem            TEXT NOT NULL CHECK (stem ~ '^[0-9]{8}$'),
    declared_at     TIMESTAMPTZ NOT NULL,
    withdrawn_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX operatore_cpv_current ON operatore_cpv (operatore_id, cpv) WHERE withdrawn_at IS NULL;
CREATE INDEX operatore_cpv_stem ON operatore_cpv (stem text_pattern_ops) WHERE withdrawn_at IS NULL;

-- Declared SOA categories with their classifica; `classifica_rank` orders I (1) .. VIII (10).
CREATE TABLE operatore_soa (
    id              BIGSERIAL PRIMARY KEY,
    operatore_id    UUID NOT NULL REFERENCES operatori(id),
    categoria       TEXT NOT NULL,
    classifica      TEXT NOT NULL,
    classifica_rank INTEGER NOT NULL CHECK (classifica_rank BETWEEN 1 AND 10),
    declared_at     TIMESTAMPTZ NOT NULL,
    withdrawn_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX operatore_soa_current ON operatore_soa (operatore_id, categoria) WHERE withdrawn_at IS NULL;
CREATE INDEX operatore_soa_search ON operatore_soa (categoria, classifica_rank) WHERE withdrawn_at IS NULL;

-- Content-addressed file store. Interim: bytes live in PostgreSQL until the seal's
-- filesystem store exists; the key (SHA-256, hex) will stay the same when they move.
CREATE TABLE registry_blobs (
    sha256          TEXT PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes      BIGINT NOT NULL CHECK (size_bytes > 0),
    content         BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

-- Qualification documents. A newer document of the same kind supersedes the older one,
-- which stays (superseded_at set).
CREATE TABLE operatore_documenti (
    id              UUID PRIMARY KEY,
    operatore_id    UUID NOT NULL REFERENCES operatori(id),
    tipo            TEXT NOT NULL CHECK (tipo IN ('durc', 'visura_camerale', 'soa_attestazione', 'certificazione_iso', 'altro')),
    nome_file       TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL REFERENCES registry_blobs(sha256),
    scadenza        DATE,
    uploaded_at     TIMESTAMPTZ NOT NULL,
    uploaded_by     UUID NOT NULL REFERENCES users(id),
    superseded_at   TIMESTAMPTZ
);
CREATE INDEX operatore_documenti_op ON operatore_documenti (operatore_id, tipo) WHERE superseded_at IS NULL;

-- Messages waiting for the notification mechanism (PEC/e-mail). Rows are never deleted;
-- the sender sets sent_at.
CREATE TABLE notifications_outbox (
    id                  UUID PRIMARY KEY,
    recipient_user_id   UUID REFERENCES users(id),
    recipient_address   TEXT NOT NULL,
    subject             TEXT NOT NULL,
    body                TEXT NOT NULL,
    object_type         TEXT NOT NULL,
    object_id           TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    sent_at             TIMESTAMPTZ
);
CREATE INDEX notifications_outbox_unsent ON notifications_outbox (created_at) WHERE sent_at IS NULL;

-- Past awards, for rotation (art. 49): the latest award in the same ente, category and
-- value band names the outgoing contractor (affidatario uscente).
CREATE TABLE registry_awards (
    id              UUID PRIMARY KEY,
    ente_id         UUID NOT NULL REFERENCES enti(id),
    operatore_id    UUID NOT NULL REFERENCES operatori(id),
    category        TEXT NOT NULL,
    contract_type   TEXT NOT NULL CHECK (contract_type IN ('works', 'services', 'supplies')),
    value_eur       NUMERIC(15, 2) NOT NULL CHECK (value_eur > 0),
    band            TEXT NOT NULL,
    awarded_at      DATE NOT NULL,
    recorded_by     UUID NOT NULL REFERENCES users(id),
    recorded_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX registry_awards_rotation ON registry_awards (ente_id, category, band, awarded_at);

-- Invitation proposals for negotiated procedures and their confirmed final lists.
CREATE TABLE invitation_proposals (
    id              UUID PRIMARY KEY,
    ente_id         UUID NOT NULL REFERENCES enti(id),
    requested_by    UUID NOT NULL REFERENCES users(id),
    category        TEXT NOT NULL,
    category_kind   TEXT NOT NULL CHECK (category_kind IN ('cpv', 'soa')),
    contract_type   TEXT NOT NULL CHECK (contract_type IN ('works', 'services', 'supplies')),
    value_eur       NUMERIC(15, 2) NOT NULL CHECK (value_eur > 0),
    band            TEXT NOT NULL,
    minimum         INTEGER NOT NULL,
    requested_count INTEGER NOT NULL,
    seed            TEXT NOT NULL,
    invitees        UUID[] NOT NULL,
    -- The full explanation returned to the RUP (candidates, exclusions, exceptions).
    result          JSONB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('proposed', 'confirmed')),
    created_at      TIMESTAMPTZ NOT NULL,
    confirmed_at    TIMESTAMPTZ,
    confirmed_by    UUID REFERENCES users(id)
);
CREATE INDEX invitation_proposals_ente ON invitation_proposals (ente_id, created_at);

-- Rotation counters: confirmed invitations per supplier, category and value band.
CREATE TABLE rotation_counters (
    operatore_id    UUID NOT NULL REFERENCES operatori(id),
    category        TEXT NOT NULL,
    band            TEXT NOT NULL,
    times_invited   INTEGER NOT NULL CHECK (times_invited >= 0),
    last_invited_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (operatore_id, category, band)
);
