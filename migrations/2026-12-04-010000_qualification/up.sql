-- Art. 14 c.1 lett. b-c: the kind of authority picks the EU threshold for supplies and
-- services. Art. 63 c.4: bodies listed by right need no qualification level. The centrale
-- itself is an ente flagged `is_centrale` (at most one): it runs tenders on behalf of enti
-- and has its own qualification (art. 62 c.6 lett. a, c.7).
ALTER TABLE enti
    ADD COLUMN authority_kind text NOT NULL DEFAULT 'sub_central'
        CHECK (authority_kind IN ('central_government', 'sub_central')),
    ADD COLUMN qualified_by_law boolean NOT NULL DEFAULT false,
    ADD COLUMN qualified_by_law_basis text,
    ADD COLUMN is_centrale boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX enti_one_centrale ON enti ((true)) WHERE is_centrale;

-- Qualification of a stazione appaltante (art. 63, Allegato II.4), per sector: every record
-- an admin makes is kept; the latest per (ente, sector) is in force. `level` NULL records a
-- loss of qualification (revoked or not renewed by ANAC).
CREATE TABLE ente_qualifications (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    ente_id uuid NOT NULL REFERENCES enti (id),
    sector text NOT NULL CHECK (sector IN ('works', 'services_supplies')),
    level text CHECK (level IN ('base', 'intermedia', 'avanzata')),
    valid_until date,
    anac_reference text,
    recorded_at timestamptz NOT NULL,
    recorded_by uuid REFERENCES users (id),
    CHECK ((level IS NULL) = (valid_until IS NULL))
);
CREATE INDEX ente_qualifications_ente ON ente_qualifications (ente_id, sector, seq);

-- Who runs a tender (the member ente itself, or the centrale on its behalf; bandi.ente_id is
-- always the ente on whose behalf). Set on the draft; at publication the platform fixes the
-- running authority and the authority kind that picked the EU threshold (art. 14 c.7).
-- A side table: bandi is at diesel's 32-column limit. No row means the ente runs it.
CREATE TABLE bando_conduct (
    bando_id uuid PRIMARY KEY REFERENCES bandi (id),
    conducted_by text NOT NULL DEFAULT 'ente' CHECK (conducted_by IN ('ente', 'centrale')),
    runner_ente_id uuid REFERENCES enti (id),
    authority_kind text CHECK (authority_kind IN ('central_government', 'sub_central'))
);
