-- Tender lifecycle (bando): tenders, lots, their state history, versions (rettifiche),
-- documents, clarifications. Nothing is deleted: amendments add versions, states are
-- appended to the history, superseded documents stay readable.

CREATE TABLE bandi (
    id                      UUID PRIMARY KEY,
    ente_id                 UUID NOT NULL REFERENCES enti(id),
    created_by              UUID NOT NULL REFERENCES users(id),
    oggetto                 TEXT NOT NULL CHECK (length(trim(oggetto)) > 0),
    cig                     TEXT,
    cup                     TEXT,
    cpv_main                TEXT NOT NULL,
    cpv_additional          TEXT[] NOT NULL DEFAULT '{}',
    nuts                    TEXT NOT NULL,
    contract_type           TEXT NOT NULL CHECK (contract_type IN ('works', 'services', 'supplies')),
    procedure_type          TEXT NOT NULL CHECK (procedure_type IN ('affidamento_diretto', 'negoziata_senza_bando', 'aperta', 'ristretta', 'competitiva_con_negoziazione')),
    award_criterion         TEXT NOT NULL CHECK (award_criterion IN ('minor_prezzo', 'oepv')),
    oepv                    JSONB,
    base_amount             NUMERIC(15, 2) NOT NULL CHECK (base_amount > 0),
    safety_costs            NUMERIC(15, 2) NOT NULL DEFAULT 0 CHECK (safety_costs >= 0 AND safety_costs <= base_amount),
    labour_intensive        BOOLEAN NOT NULL DEFAULT FALSE,
    intellectual_services   BOOLEAN NOT NULL DEFAULT FALSE,
    urgency_reason          TEXT,
    questions_deadline      TIMESTAMPTZ,
    submission_deadline     TIMESTAMPTZ,
    opening_at              TIMESTAMPTZ,
    offer_validity_days     INTEGER NOT NULL DEFAULT 180 CHECK (offer_validity_days > 0),
    envelopes               TEXT[] NOT NULL,
    anomaly_method          TEXT CHECK (anomaly_method IN ('A', 'B', 'C')),
    custodians              UUID[] NOT NULL DEFAULT '{}',
    custodian_threshold     INTEGER NOT NULL DEFAULT 1,
    -- Invited operators of negotiated procedures. For now these are supplier USER ids with no
    -- foreign key: the registry (operatori_economici) is written in parallel.
    invitees                UUID[] NOT NULL DEFAULT '{}',
    state                   TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published', 'submissions_closed', 'opening', 'evaluation', 'proposed_award', 'awarded', 'effective', 'cancelled', 'deserted')),
    version                 INTEGER NOT NULL DEFAULT 0,
    published_at            TIMESTAMPTZ,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    CHECK (state = 'draft' OR published_at IS NOT NULL)
);
CREATE UNIQUE INDEX bandi_cig ON bandi (cig) WHERE cig IS NOT NULL;
CREATE INDEX bandi_ente ON bandi (ente_id);
CREATE INDEX bandi_public ON bandi (published_at DESC, id DESC) WHERE published_at IS NOT NULL;
CREATE INDEX bandi_due_submission ON bandi (submission_deadline) WHERE state = 'published';
CREATE INDEX bandi_due_opening ON bandi (opening_at) WHERE state = 'submissions_closed';

CREATE TABLE bando_lotti (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    numero          INTEGER NOT NULL CHECK (numero > 0),
    oggetto         TEXT NOT NULL,
    cig             TEXT NOT NULL UNIQUE,
    base_amount     NUMERIC(15, 2) NOT NULL CHECK (base_amount > 0),
    safety_costs    NUMERIC(15, 2) NOT NULL DEFAULT 0 CHECK (safety_costs >= 0 AND safety_costs <= base_amount),
    state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'proposed_award', 'awarded', 'effective', 'deserted', 'cancelled')),
    outcome_note    TEXT,
    UNIQUE (bando_id, numero)
);

-- Every state a tender or one of its lots ever had, append-only.
CREATE TABLE bando_state_history (
    id              BIGSERIAL PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    lotto_id        UUID REFERENCES bando_lotti(id),
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    actor_user_id   UUID REFERENCES users(id),
    reason          TEXT,
    request_id      TEXT NOT NULL
);
CREATE INDEX bando_state_history_bando ON bando_state_history (bando_id, id);

-- Version 1 is the published notice; every rettifica adds the next version with a snapshot
-- of the whole tender and the list of what changed.
CREATE TABLE bando_versioni (
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    version         INTEGER NOT NULL CHECK (version > 0),
    kind            TEXT NOT NULL CHECK (kind IN ('publication', 'rettifica')),
    reason          TEXT,
    changes         JSONB NOT NULL DEFAULT '[]'::jsonb,
    snapshot        JSONB NOT NULL,
    published_at    TIMESTAMPTZ NOT NULL,
    actor_user_id   UUID REFERENCES users(id),
    -- Set on rettifiche: bids submitted before this version must be confirmed or replaced.
    requires_bid_confirmation BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (bando_id, version)
);

CREATE TABLE bando_documenti (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    kind            TEXT NOT NULL CHECK (kind IN ('disciplinare', 'capitolato', 'allegato')),
    filename        TEXT NOT NULL CHECK (length(trim(filename)) > 0),
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    content         BYTEA NOT NULL,
    -- The tender version that introduced it (0 while in draft).
    version         INTEGER NOT NULL,
    uploaded_at     TIMESTAMPTZ NOT NULL,
    uploaded_by     UUID NOT NULL REFERENCES users(id)
);
CREATE INDEX bando_documenti_bando ON bando_documenti (bando_id, uploaded_at);

-- Questions are private to the asker; answers are public and never name the asker.
CREATE TABLE bando_chiarimenti (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    numero          INTEGER NOT NULL,
    question        TEXT NOT NULL CHECK (length(trim(question)) > 0),
    asked_by        UUID NOT NULL REFERENCES users(id),
    asked_at        TIMESTAMPTZ NOT NULL,
    answer          TEXT,
    answered_by     UUID REFERENCES users(id),
    answered_at     TIMESTAMPTZ,
    UNIQUE (bando_id, numero),
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);

CREATE FUNCTION bando_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bando_state_history_append_only BEFORE UPDATE OR DELETE ON bando_state_history
    FOR EACH ROW EXECUTE FUNCTION bando_append_only();
CREATE TRIGGER bando_versioni_append_only BEFORE UPDATE OR DELETE ON bando_versioni
    FOR EACH ROW EXECUTE FUNCTION bando_append_only();
CREATE TRIGGER bando_documenti_append_only BEFORE UPDATE OR DELETE ON bando_documenti
    FOR EACH ROW EXECUTE FUNCTION bando_append_only();
