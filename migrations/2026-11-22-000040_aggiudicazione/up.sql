-- Evaluation and award (issue 6): admissions (busta A), soccorso istruttorio (art. 101),
-- commission (art. 93) and its raw coefficients, the stored evaluation (anomaly computation,
-- scores, ranking with its seed), art. 110 checks, the award with its requirements checklist
-- and standstill. Bids are read from the seal's tables (`bids`, `opened_envelopes`).

-- One row per bid that reached the evaluation: its admission and, if excluded, why and when.
CREATE TABLE agg_participants (
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    bidder_id       UUID NOT NULL REFERENCES users(id),
    bid_id          UUID NOT NULL REFERENCES bids(id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'admitted', 'excluded')),
    excluded_phase  TEXT CHECK (excluded_phase IN ('administrative', 'soccorso', 'economic', 'technical', 'anomaly', 'art110')),
    reason          TEXT,
    decided_by      UUID REFERENCES users(id),
    decided_at      TIMESTAMPTZ,
    PRIMARY KEY (bando_id, bidder_id),
    CHECK ((status = 'excluded') = (excluded_phase IS NOT NULL))
);

-- Soccorso istruttorio: only on envelope A, 5 to 10 days, the answer through the platform.
CREATE TABLE agg_soccorso (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    bidder_id       UUID NOT NULL REFERENCES users(id),
    envelope        TEXT NOT NULL CHECK (envelope = 'A'),
    request         TEXT NOT NULL,
    days            INTEGER NOT NULL CHECK (days BETWEEN 5 AND 10),
    deadline        TIMESTAMPTZ NOT NULL,
    requested_by    UUID NOT NULL REFERENCES users(id),
    requested_at    TIMESTAMPTZ NOT NULL,
    answer          TEXT,
    answered_at     TIMESTAMPTZ,
    outcome         TEXT CHECK (outcome IN ('accepted', 'rejected', 'expired')),
    outcome_reason  TEXT,
    outcome_at      TIMESTAMPTZ
);
CREATE INDEX agg_soccorso_bando ON agg_soccorso (bando_id);

-- The commission (OEPV, art. 93): appointed after the deadline, odd number, at most 5.
CREATE TABLE agg_commission (
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    user_id         UUID NOT NULL REFERENCES users(id),
    president       BOOLEAN NOT NULL,
    appointed_by    UUID NOT NULL REFERENCES users(id),
    appointed_at    TIMESTAMPTZ NOT NULL,
    declaration     TEXT,
    declared_at     TIMESTAMPTZ,
    PRIMARY KEY (bando_id, user_id)
);

-- Every commissioner's raw coefficient per criterion and offer (never overwritten: a
-- correction is a new row; the latest per key counts).
CREATE TABLE agg_coefficients (
    id              BIGSERIAL PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    bidder_id       UUID NOT NULL REFERENCES users(id),
    criterion       TEXT NOT NULL,
    commissioner_id UUID NOT NULL REFERENCES users(id),
    coefficient     NUMERIC(12, 6) NOT NULL CHECK (coefficient >= 0 AND coefficient <= 1),
    entered_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX agg_coefficients_key ON agg_coefficients (bando_id, bidder_id, criterion, commissioner_id, id);

-- The stored evaluation: every intermediate value as the engine returned it.
CREATE TABLE agg_evaluations (
    bando_id            UUID PRIMARY KEY REFERENCES bandi(id),
    technical_report    JSONB,
    technical_closed_at TIMESTAMPTZ,
    criterion           TEXT CHECK (criterion IN ('minor_prezzo', 'oepv')),
    anomaly_applies     BOOLEAN,
    anomaly_why         TEXT,
    anomaly_report      JSONB,
    economic_report     JSONB,
    ranking             JSONB,
    draw_seed           BIGINT,
    computed_by         UUID REFERENCES users(id),
    computed_at         TIMESTAMPTZ
);

-- Art. 110: explanations asked of the best offer (15 days), accepted or exclusion.
CREATE TABLE agg_art110 (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    bidder_id       UUID NOT NULL REFERENCES users(id),
    request         TEXT NOT NULL,
    deadline        TIMESTAMPTZ NOT NULL,
    requested_by    UUID NOT NULL REFERENCES users(id),
    requested_at    TIMESTAMPTZ NOT NULL,
    answer          TEXT,
    answered_at     TIMESTAMPTZ,
    outcome         TEXT CHECK (outcome IN ('accepted', 'excluded')),
    outcome_reason  TEXT,
    outcome_at      TIMESTAMPTZ
);

-- The outcome: proposal, award, efficacy, standstill, or deserted / all excluded.
CREATE TABLE agg_awards (
    bando_id            UUID PRIMARY KEY REFERENCES bandi(id),
    outcome             TEXT NOT NULL CHECK (outcome IN ('proposed', 'awarded', 'effective', 'deserted', 'all_excluded')),
    winner_id           UUID REFERENCES users(id),
    proposed_by         UUID REFERENCES users(id),
    proposed_at         TIMESTAMPTZ,
    awarded_by          UUID REFERENCES users(id),
    awarded_at          TIMESTAMPTZ,
    standstill_applies  BOOLEAN,
    standstill_why      TEXT,
    standstill_end      TIMESTAMPTZ,
    effective_by        UUID REFERENCES users(id),
    effective_at        TIMESTAMPTZ,
    note                TEXT
);

-- The requirements check before efficacy (art. 17 c.5): one row per requirement with evidence.
CREATE TABLE agg_requirements (
    id              UUID PRIMARY KEY,
    bando_id        UUID NOT NULL REFERENCES bandi(id),
    requirement     TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    satisfied       BOOLEAN NOT NULL,
    checked_by      UUID NOT NULL REFERENCES users(id),
    checked_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX agg_requirements_bando ON agg_requirements (bando_id);

CREATE FUNCTION agg_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER agg_coefficients_append_only BEFORE UPDATE OR DELETE ON agg_coefficients
    FOR EACH ROW EXECUTE FUNCTION agg_append_only();
