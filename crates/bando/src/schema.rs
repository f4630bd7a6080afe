// The Diesel view of migrations/2026-11-22-000020_bando. Written by hand to match the SQL.

pub use db::schema::{enti, users};

diesel::table! {
    bandi (id) {
        id -> Uuid,
        ente_id -> Uuid,
        created_by -> Uuid,
        oggetto -> Text,
        cig -> Nullable<Text>,
        cup -> Nullable<Text>,
        cpv_main -> Text,
        cpv_additional -> Array<Text>,
        nuts -> Text,
        contract_type -> Text,
        procedure_type -> Text,
        award_criterion -> Text,
        oepv -> Nullable<Jsonb>,
        base_amount -> Numeric,
        safety_costs -> Numeric,
        labour_intensive -> Bool,
        intellectual_services -> Bool,
        urgency_reason -> Nullable<Text>,
        questions_deadline -> Nullable<Timestamptz>,
        submission_deadline -> Nullable<Timestamptz>,
        opening_at -> Nullable<Timestamptz>,
        offer_validity_days -> Int4,
        envelopes -> Array<Text>,
        anomaly_method -> Nullable<Text>,
        custodians -> Array<Uuid>,
        custodian_threshold -> Int4,
        invitees -> Array<Uuid>,
        state -> Text,
        version -> Int4,
        published_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

// migrations/2026-12-03-010000_anomaly_terms (a table of its own: `bandi` is at diesel's
// 32-column limit).
diesel::table! {
    bando_anomaly_terms (bando_id) {
        bando_id -> Uuid,
        terms -> Jsonb,
    }
}

diesel::table! {
    bando_lotti (id) {
        id -> Uuid,
        bando_id -> Uuid,
        numero -> Int4,
        oggetto -> Text,
        cig -> Text,
        base_amount -> Numeric,
        safety_costs -> Numeric,
        state -> Text,
        outcome_note -> Nullable<Text>,
    }
}

diesel::table! {
    bando_state_history (id) {
        id -> Int8,
        bando_id -> Uuid,
        lotto_id -> Nullable<Uuid>,
        from_state -> Nullable<Text>,
        to_state -> Text,
        occurred_at -> Timestamptz,
        actor_user_id -> Nullable<Uuid>,
        reason -> Nullable<Text>,
        request_id -> Text,
    }
}

diesel::table! {
    bando_versioni (bando_id, version) {
        bando_id -> Uuid,
        version -> Int4,
        kind -> Text,
        reason -> Nullable<Text>,
        changes -> Jsonb,
        snapshot -> Jsonb,
        published_at -> Timestamptz,
        actor_user_id -> Nullable<Uuid>,
        requires_bid_confirmation -> Bool,
    }
}

diesel::table! {
    bando_documenti (id) {
        id -> Uuid,
        bando_id -> Uuid,
        kind -> Text,
        filename -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        sha256 -> Text,
        content -> Bytea,
        version -> Int4,
        uploaded_at -> Timestamptz,
        uploaded_by -> Uuid,
    }
}

diesel::table! {
    bando_chiarimenti (id) {
        id -> Uuid,
        bando_id -> Uuid,
        numero -> Int4,
        question -> Text,
        asked_by -> Uuid,
        asked_at -> Timestamptz,
        answer -> Nullable<Text>,
        answered_by -> Nullable<Uuid>,
        answered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// Art. 18 c.3 lett. b-c: the contract rests on a framework agreement / a DPS.
    bando_award_basis (bando_id) {
        bando_id -> Uuid,
        framework_agreement -> Bool,
        dynamic_purchasing_system -> Bool,
    }
}

diesel::table! {
    /// Who runs the tender (the ente, or the centrale on its behalf); fixed at publication
    /// with the running authority and the authority kind of art. 14 c.1 lett. b-c.
    bando_conduct (bando_id) {
        bando_id -> Uuid,
        conducted_by -> Text,
        runner_ente_id -> Nullable<Uuid>,
        authority_kind -> Nullable<Text>,
    }
}

diesel::table! {
    /// Allegato I.3: each warning given and each duration that ran out (migration
    /// 2026-12-04-020000_max_durations; days_before = 0 means it ran out).
    bando_duration_notices (bando_id, due_date, days_before) {
        bando_id -> Uuid,
        due_date -> Date,
        days_before -> Int4,
        recorded_at -> Timestamptz,
        recipients -> Int4,
    }
}

diesel::joinable!(bando_lotti -> bandi (bando_id));
diesel::joinable!(bando_state_history -> bandi (bando_id));
diesel::joinable!(bando_versioni -> bandi (bando_id));
diesel::joinable!(bando_documenti -> bandi (bando_id));
diesel::joinable!(bando_chiarimenti -> bandi (bando_id));

diesel::allow_tables_to_appear_in_same_query!(
    bandi,
    bando_lotti,
    bando_state_history,
    bando_versioni,
    bando_documenti,
    bando_chiarimenti,
    bando_award_basis,
    bando_conduct,
);

// `enti` and `users` live in `db::schema`; Rust's orphan rule forbids declaring them here
// with `allow_tables_to_appear_in_same_query!`, so this crate reads them with separate queries.
